package brain

// Thread orders one conversation's records as a dialogue: each reply right
// after the user message it answers (its ReplyTo), everything else in the
// order given. Messages are stored as they arrive, so a question sent while
// the previous one is being answered is stored before that answer; by ID or
// by time the two questions come first, then the two answers. Prompts and
// the night's training pairs read the conversation threaded.
func Thread(recs []Record) []Record {
	asked := map[string]bool{}
	for _, r := range recs {
		if r.Role == RoleUser && r.Ref != "" {
			asked[r.Ref] = true
		}
	}
	replies := map[string][]Record{}
	for _, r := range recs {
		if r.Role == RoleAssistant && asked[r.ReplyTo] {
			replies[r.ReplyTo] = append(replies[r.ReplyTo], r)
		}
	}
	if len(replies) == 0 {
		return recs
	}
	out := make([]Record, 0, len(recs))
	for _, r := range recs {
		if r.Role == RoleAssistant && asked[r.ReplyTo] {
			continue // placed after its question
		}
		out = append(out, r)
		if r.Role == RoleUser && r.Ref != "" {
			out = append(out, replies[r.Ref]...)
		}
	}
	return out
}
