// Package brain is the core of EVO-TR: the domain types every part shares
// (Message, Record, Decision, Expert), the small ports the brain needs from
// the outside world (History, LLM, Router, Clock, Recall), and the Brain
// itself, which turns one incoming message into one streamed reply.
//
// brain imports no adapter. Platform adapters (bots/*) fill a Message and
// render the reply; storage and model adapters (memory/*, brain/ollama)
// implement the ports; only cmd/evo wires them together.
package brain
