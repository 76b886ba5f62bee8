package brain

import "fmt"

// Decision records which expert answers a message and why.
type Decision struct {
	// Expert is the name of the expert that answers ("base" on fallback).
	Expert string `json:"expert"`
	// Model is the Ollama model that answers.
	Model string `json:"model"`
	// Confidence is the router's calibrated probability for its best expert.
	Confidence float64 `json:"confidence"`
	// RunnerUp is the second-best expert and its probability.
	RunnerUp           string  `json:"runner_up,omitempty"`
	RunnerUpConfidence float64 `json:"runner_up_confidence,omitempty"`
	// Fallback is true when the best expert's confidence was under the
	// threshold and the base model answers instead.
	Fallback bool `json:"fallback"`
	// Forced is true when the user chose the expert with /expert.
	Forced bool `json:"forced,omitempty"`
	// Candidate is the router's best expert even when Fallback is true.
	Candidate string `json:"candidate,omitempty"`
}

// String renders the decision for logs and /why.
func (d Decision) String() string {
	switch {
	case d.Forced:
		return fmt.Sprintf("%s (%s, forced)", d.Expert, d.Model)
	case d.Fallback:
		return fmt.Sprintf("%s (%s, fallback: %s %.2f)", d.Expert, d.Model, d.Candidate, d.Confidence)
	default:
		return fmt.Sprintf("%s (%s, %.2f)", d.Expert, d.Model, d.Confidence)
	}
}
