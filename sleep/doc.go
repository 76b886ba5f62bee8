// Package sleep is EVO-TR's night: once a day it reads the day's
// conversations, asks the base model to distil each user's day into a few
// long-term memories (facts, preferences, what was worked on, with tags),
// stores them where the brain recalls them, and writes the day's good
// exchanges as training data that grows the experts.
//
// Job.Consolidate does one day and is what tests call with a fixed clock;
// Scheduler runs it every night with gocron, looking back a few days so
// that a missed or failed night is caught up (also at start). A brain.NightLog makes each day run once, whatever the number
// of instances or restarts; re-running a day on demand (/sleep, evo sleep)
// replaces that day's memories and files instead of adding copies.
package sleep
