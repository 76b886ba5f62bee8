// Package brain is the core of EVO-TR: the domain types every part shares
// (Message, Record, Decision, Expert, Memory), the small ports the brain
// needs from the outside world (History, LLM, Embedder, Router, Recall,
// Memorizer, MemoryLister, Forgetter, NightLog, Sleeper, Observer, Clock),
// and the Brain itself, which turns one incoming message into one streamed
// reply and answers the chat commands.
//
// brain imports no adapter. Platform adapters (bots/*) fill a Message and
// render the reply; storage and model adapters (memory/*, brain/ollama)
// implement the ports; the night job (sleep) uses them too; only cmd/evo
// wires them together.
package brain
