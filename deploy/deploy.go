// Package deploy holds what EVO-TR ships beside its code: the expert
// registry (experts/*.yaml with their intent examples, and the router's
// evaluation set in experts/eval). It is built into the binary so that evo
// works from any directory; EXPERTS_DIR overrides it on disk.
package deploy

import "embed"

// Experts is the built-in copy of the experts directory; fs.Sub(Experts,
// "experts") is what brain.LoadExperts reads.
//
//go:embed experts
var Experts embed.FS
