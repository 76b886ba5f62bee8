package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/ollama"
)

const expertsUsage = `usage:
  evo experts sync [--resident] [--dry-run]
        create or update the Ollama model of every expert from its files
        (packaging adapter: from + LoRA GGUF; gguf: one full model file);
        unchanged experts are left alone.
        --resident  give each adapter expert its own copy of the base file, so
                    switching experts never reloads a model (costs the base's
                    size per expert in memory and on disk; see deploy/README.md)
        --dry-run   only report what would change
  evo experts list
        each expert's model, packaging, and whether Ollama has it and has it loaded
OLLAMA_HOST names the server, EXPERTS_DIR the experts (else the built-in copy),
ADAPTER_TR_PATH / ADAPTER_PYTHON_PATH the files the expert files name.`

// cmdExperts manages the experts' models in Ollama.
func cmdExperts(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: no subcommand\n%s", errUsage, expertsUsage)
	}
	switch args[0] {
	case "sync":
		return a.expertsSync(ctx, args[1:])
	case "list":
		return a.expertsList(ctx, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintln(a.stdout, expertsUsage)
		return nil
	default:
		return fmt.Errorf("%w: unknown subcommand %q\n%s", errUsage, args[0], expertsUsage)
	}
}

// resolvedExperts loads the registry and expands ${NAME} in file paths:
// the two adapter paths from the configuration, any other name from the
// environment.
func (a *app) resolvedExperts() ([]brain.Expert, error) {
	experts, err := a.loadExperts()
	if err != nil {
		return nil, err
	}
	known := map[string]string{
		"ADAPTER_TR_PATH":     a.cfg.AdapterTRPath,
		"ADAPTER_PYTHON_PATH": a.cfg.AdapterPyPath,
	}
	var unset []string
	lookup := func(name string) string {
		v, ok := known[name]
		if !ok {
			v, _ = a.lookup(name)
		}
		if v == "" {
			unset = append(unset, name)
			return "${" + name + "}" // kept, so sync names the variable
		}
		return v
	}
	for i := range experts {
		experts[i].File = experts[i].ResolveFile(lookup)
	}
	if len(unset) > 0 {
		a.log.Debug("expert files name unset variables", "vars", unset)
	}
	return experts, nil
}

func (a *app) expertsSync(ctx context.Context, args []string) error {
	fl := flag.NewFlagSet("experts sync", flag.ContinueOnError)
	fl.SetOutput(a.stderr)
	fl.Usage = func() { fmt.Fprintln(a.stderr, expertsUsage) }
	resident := fl.Bool("resident", false, "give each adapter expert its own copy of the base file")
	dryRun := fl.Bool("dry-run", false, "only report what would change")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() > 0 {
		return fmt.Errorf("%w: unexpected %q\n%s", errUsage, fl.Arg(0), expertsUsage)
	}
	experts, err := a.resolvedExperts()
	if err != nil {
		return err
	}
	c, err := a.ollamaClient()
	if err != nil {
		return err
	}
	rep, syncErr := c.Sync(ctx, experts, ollama.SyncOptions{
		Base:     a.cfg.BaseModel,
		Resident: *resident,
		DryRun:   *dryRun,
		Step:     func(expert, step string) { fmt.Fprintf(a.stderr, "%s: %s\n", expert, step) },
	})
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EXPERT\tMODEL\tPACKAGING\tRESULT\tDETAIL")
	counts := map[ollama.SyncAction]int{}
	for _, r := range rep.Results {
		counts[r.Action]++
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Expert, r.Model, packagingLabel(r.Packaging, r.Resident), r.Action, syncDetail(r))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var summary []string
	for _, act := range []ollama.SyncAction{ollama.SyncCreated, ollama.SyncUpdated, ollama.SyncUnchanged,
		ollama.SyncPresent, ollama.SyncPlanned, ollama.SyncStale, ollama.SyncFailed} {
		if counts[act] > 0 {
			summary = append(summary, fmt.Sprintf("%d %s", counts[act], act))
		}
	}
	if rep.Changed() == 0 && counts[ollama.SyncFailed] == 0 && !*dryRun {
		summary = append(summary, "nothing to do")
	}
	fmt.Fprintln(a.stdout, strings.Join(summary, ", "))
	if syncErr != nil {
		return fmt.Errorf("%d of %d experts failed", counts[ollama.SyncFailed], len(rep.Results))
	}
	return nil
}

// packagingLabel is the packaging as list and sync print it.
func packagingLabel(p brain.Packaging, resident bool) string {
	switch {
	case p == "":
		return string(brain.PackagingExisting)
	case resident:
		return string(p) + " (resident)"
	default:
		return string(p)
	}
}

func syncDetail(r ollama.SyncResult) string {
	var parts []string
	if r.Why != "" {
		parts = append(parts, r.Why)
	}
	if r.Uploaded > 0 {
		parts = append(parts, "uploaded "+sizeLabel(r.Uploaded))
	}
	if r.Err != nil {
		parts = append(parts, r.Err.Error())
	} else if r.Action == ollama.SyncCreated || r.Action == ollama.SyncUpdated {
		parts = append(parts, r.Took.Round(10*time.Millisecond).String())
	}
	return strings.Join(parts, "; ")
}

// sizeLabel is a byte count for people: 812 KiB, 1.9 GiB.
func sizeLabel(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	default:
		return fmt.Sprintf("%d KiB", (n+1023)>>10)
	}
}

func (a *app) expertsList(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%w: experts list takes no arguments\n%s", errUsage, expertsUsage)
	}
	experts, err := a.loadExperts()
	if err != nil {
		return err
	}
	c, err := a.ollamaClient()
	if err != nil {
		return err
	}
	have, err := c.Models(ctx)
	if err != nil {
		return fmt.Errorf("ask Ollama for its models: %w", err)
	}
	loaded, err := c.Loaded(ctx)
	if err != nil {
		return fmt.Errorf("ask Ollama for its loaded models: %w", err)
	}
	base := a.baseExpert()
	rows := append([]brain.Expert{{Name: base.Name, Model: base.Model, Packaging: brain.PackagingExisting}}, experts...)
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EXPERT\tMODEL\tPACKAGING\tEXISTS\tLOADED")
	missing := 0
	for _, e := range rows {
		exists, isLoaded := contains(have, e.Model), contains(loaded, e.Model)
		if !exists {
			missing++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.Name, e.Model, packagingLabel(e.Packaging, false), yesNo(exists), yesNo(isLoaded))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if missing > 0 {
		fmt.Fprintf(a.stdout, "%d model(s) missing: run `evo experts sync` (base: ollama pull %s)\n", missing, base.Model)
	}
	return nil
}

func contains(models []string, model string) bool {
	for _, m := range models {
		if ollama.SameModel(m, model) {
			return true
		}
	}
	return false
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
