package brain

import (
	"context"
	"fmt"
	"strings"
)

// Command is a chat command the brain understands.
type Command struct {
	// Name without the slash, e.g. "reset".
	Name string
	// Description in Turkish, for setMyCommands and slash commands.
	Description string
	// Args names the argument, if any, e.g. "uzman".
	Args string
	// Admin commands work only for users the adapter marks as admin.
	Admin bool
	// Private commands show or change the user's own data: in a group they
	// only say "write it to me privately", and their replies are Private.
	Private bool
}

// commandSpec is a command and the method that answers it. Each family of
// commands lives in a file of its own (command_*.go) and adds its specs to
// commandTable there.
type commandSpec struct {
	Command
	run func(b *Brain, ctx context.Context, m Message, args string) Reply
}

// commandTable lists every command in the order /help shows them, admin
// commands last. It is built from the families' lists.
func commandTable() []commandSpec {
	var all, admin []commandSpec
	for _, family := range [][]commandSpec{chatCommands(), memoryCommands(), exportCommands(), adminCommands(), accessCommands(), statsCommands(), feedbackCommands()} {
		for _, c := range family {
			if c.Admin {
				admin = append(admin, c)
			} else {
				all = append(all, c)
			}
		}
	}
	return append(all, admin...)
}

// Commands lists the commands for adapters to register, admin ones last.
func Commands() []Command {
	specs := commandTable()
	out := make([]Command, len(specs))
	for i, c := range specs {
		out[i] = c.Command
	}
	return out
}

// command answers one chat command. Access to admin commands and the
// privacy of private ones are decided here, once, for every command; admin
// commands and refused attempts are audited.
func (b *Brain) command(ctx context.Context, m Message, name, args string) Reply {
	var spec *commandSpec
	for _, c := range commandTable() {
		if c.Name == name {
			spec = &c
			break
		}
	}
	if spec == nil {
		return Reply{Kind: ReplyCommand, Text: fmt.Sprintf(msgUnknownCmd, name)}
	}
	if spec.Admin && !m.Admin {
		b.audit(ctx, m, name, args, AuditRefused)
		return Reply{Kind: ReplyCommand, Text: msgAdminOnly}
	}
	if spec.Private && m.ChatKind != ChatPrivate && m.ChatKind != "" {
		return Reply{Kind: ReplyCommand, Text: msgPrivateOnly, Private: true}
	}
	r := spec.run(b, ctx, m, args)
	if spec.Admin {
		outcome := AuditOK
		if r.Kind == ReplyError {
			outcome = AuditFailed
		}
		b.audit(ctx, m, name, args, outcome)
	}
	r.Private = r.Private || spec.Private
	return r
}

// parseCommand splits "/name@bot args" into its name and arguments. The
// name must be one word of ASCII letters, digits and underscores, so a
// pasted path such as "/usr/bin/python" is a message, not a command.
func parseCommand(text string) (name, args string, ok bool) {
	if !strings.HasPrefix(text, "/") {
		return "", "", false
	}
	head, rest, _ := strings.Cut(text[1:], " ")
	if i := strings.IndexAny(head, "\n\t"); i >= 0 {
		rest = head[i+1:] + " " + rest
		head = head[:i]
	}
	head, _, _ = strings.Cut(head, "@")
	if head == "" || len(head) > 32 {
		return "", "", false
	}
	for _, r := range head {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return "", "", false
		}
	}
	return strings.ToLower(head), strings.TrimSpace(rest), true
}
