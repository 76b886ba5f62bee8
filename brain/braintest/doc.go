// Package braintest holds what tests of storage implementations and of the
// brain share: one contract suite per storage port — TestHistory
// (brain.History), TestLongTermMemory (Recall, Memorizer, MemoryLister,
// Forgetter) and TestNightLog (brain.NightLog) — which every implementation
// runs against itself, and in-memory implementations that pass the same
// contracts and serve as test fakes (MemHistory, MemMemory, MemNightLog),
// with HashEmbedder, a deterministic brain.Embedder; and what the packages
// running real servers in tests share (CIPath, FreePort, Tail).
package braintest
