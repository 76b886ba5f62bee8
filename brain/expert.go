package brain

// BaseExpert is the name of the frozen base model in decisions.
const BaseExpert = "base"

// Packaging says how an expert's Ollama model is built.
type Packaging string

// Packagings.
const (
	// PackagingAdapter is the base model plus one LoRA adapter GGUF.
	PackagingAdapter Packaging = "adapter"
	// PackagingGGUF is one full model file (e.g. an adapter fused offline).
	PackagingGGUF Packaging = "gguf"
	// PackagingExisting is a model that already exists in Ollama.
	PackagingExisting Packaging = "existing"
)

// Expert is one skill of EVO-TR: a model served by Ollama with its own
// system prompt. Experts come from files (see the registry), so adding one
// needs no code.
type Expert struct {
	Name        string `yaml:"name"`
	Model       string `yaml:"model"`
	Description string `yaml:"description"`
	// SystemPrompt is sent first in every request to this expert (Turkish).
	SystemPrompt string `yaml:"system_prompt"`
	// Options are Ollama generation options (temperature, top_p, ...).
	// num_ctx is set globally, never per expert: a different num_ctx reloads
	// the model.
	Options map[string]any `yaml:"options"`
	// Packaging, From and File describe how `evo experts sync` builds the
	// model; File may name an environment variable as ${NAME}.
	Packaging Packaging `yaml:"packaging"`
	From      string    `yaml:"from"`
	File      string    `yaml:"file"`
	// Examples are intent examples for the router: those written in the
	// expert file plus those of ExamplesFile.
	Examples []string `yaml:"examples"`
	// ExamplesFile names a text file beside the expert file with more
	// intent examples (see LoadExperts for its format).
	ExamplesFile string `yaml:"examples_file"`
	// Keywords are words that on their own point to this expert; the
	// router generalises from them to messages unlike any example. A
	// trailing * matches any ending; two words match side by side.
	Keywords []string `yaml:"keywords"`
	// KeywordsFile names a text file beside the expert file with more
	// keywords, one per line.
	KeywordsFile string `yaml:"keywords_file"`
}
