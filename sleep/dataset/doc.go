// Package dataset turns the night's training files and public-set files
// into the data folders mlx-lm's LoRA trainer reads: for each expert,
// train.jsonl, valid.jsonl and test.jsonl of `{"messages":[…]}` lines.
//
// Inputs are chat lines: a "messages" list of {role, content} with roles
// system, user and assistant, ending with the assistant. Other keys (the
// night's "user", a public set's ids) are dropped: the output carries only
// roles and contents. A line with "feedback": "bad" is an answer a user
// marked wrong; it stays out, and so do its identical copies. Identical
// conversations (contents compared after trimming trailing whitespace)
// appear once per expert.
//
// A conversation's split is chosen by a hash of its content alone, and each
// split is sorted by that hash, so the same inputs give byte-identical
// files whatever the order of the paths or of the file system's walk, and
// a conversation stays in its split as more nights are added.
package dataset
