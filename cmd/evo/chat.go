package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/evo-tr/evo/brain"
)

// maxLine is the longest input line evo chat reads (a pasted file).
const maxLine = 1 << 20

// cmdChat talks to the brain in the terminal: one input line is one
// message; the reply streams to stdout and ends with a newline.
func cmdChat(ctx context.Context, a *app, args []string) error {
	fl := flag.NewFlagSet("chat", flag.ContinueOnError)
	fl.SetOutput(a.stderr)
	user := fl.String("user", a.defaultUser(), "who is talking (the context is kept per user)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if strings.TrimSpace(*user) == "" {
		return fmt.Errorf("%w: --user must not be empty", errUsage)
	}
	svc, err := a.openService(ctx)
	if err != nil {
		return err
	}
	defer svc.Close()
	b := svc.brain
	interactive := isTerminal(a.stdin)
	if interactive {
		fmt.Fprintf(a.stdout, "EVO-TR terminal sohbeti (%s). Çıkmak için Ctrl-D; komutlar için /help.\n", *user)
	}
	sc := bufio.NewScanner(a.stdin)
	sc.Buffer(make([]byte, 64*1024), maxLine)
	for {
		if interactive {
			fmt.Fprint(a.stdout, "> ")
		}
		if !sc.Scan() {
			break
		}
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		m := brain.Message{Platform: brain.PlatformCLI, ChatID: "terminal", ChatKind: brain.ChatPrivate,
			UserID: *user, UserName: *user, Text: line, Mentioned: true, Admin: true, Time: time.Now()}
		printReply(ctx, a.stdout, b, m)
		if ctx.Err() != nil {
			break
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read input: %w", err)
	}
	if err := b.Flush(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("%d messages could not be stored: %w", b.Pending(), err)
	}
	return nil
}

// printReply streams one reply to w and ends it with a newline. When the
// final text differs from what was streamed (an error or a command), the
// final text is what the user reads last.
func printReply(ctx context.Context, w io.Writer, b *brain.Brain, m brain.Message) {
	var streamed strings.Builder
	sink := brain.FuncSink{
		OnDelta: func(d string) {
			streamed.WriteString(d)
			io.WriteString(w, d)
		},
	}
	r := b.Handle(ctx, m, sink)
	s := streamed.String()
	switch {
	case s == r.Text:
	case s != "" && strings.HasPrefix(r.Text, s):
		io.WriteString(w, r.Text[len(s):])
	case s != "":
		io.WriteString(w, "\n"+r.Text)
	default:
		io.WriteString(w, r.Text)
	}
	io.WriteString(w, "\n")
}

// defaultUser is the login name, the default chat user.
func (a *app) defaultUser() string {
	if u, _ := a.lookup("USER"); u != "" {
		return u
	}
	return "local"
}

// isTerminal reports whether r is an interactive terminal.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func cmdMigrate(ctx context.Context, a *app, _ []string) error {
	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	st.Close()
	fmt.Fprintln(a.stdout, "migrations applied")
	return nil
}
