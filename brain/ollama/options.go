package ollama

import "math"

// loadTimeOptions are Ollama's runner options: the model is loaded with
// them, and a request whose values differ from the loaded runner's makes
// Ollama reload the model (server/sched.go, needsReload). Experts may not
// set them; only the fixed options do.
var loadTimeOptions = map[string]bool{
	"num_ctx":           true,
	"num_batch":         true,
	"num_gpu":           true,
	"main_gpu":          true,
	"low_vram":          true,
	"f16_kv":            true,
	"logits_all":        true,
	"vocab_only":        true,
	"use_mmap":          true,
	"use_mlock":         true,
	"num_thread":        true,
	"draft_num_predict": true,
}

// fixedOptions are the options every request carries. Embeddings need no
// num_predict.
func (c *Client) fixedOptions(withPredict bool) map[string]any {
	out := map[string]any{}
	if c.opts.NumCtx > 0 {
		out["num_ctx"] = c.opts.NumCtx
	}
	if withPredict && c.opts.NumPredict > 0 {
		out["num_predict"] = c.opts.NumPredict
	}
	return out
}

// options merges an expert's options into the fixed ones: load-time
// options are dropped (with a warning, once per model and option), and
// num_predict may only lower the fixed ceiling.
func (c *Client) options(model string, expert map[string]any) map[string]any {
	out := c.fixedOptions(true)
	for k, v := range expert {
		switch {
		case loadTimeOptions[k]:
			c.warnOnce(model, k, "expert option ignored: it would make Ollama reload the model", v)
		case k == "num_predict":
			n, ok := asInt(v)
			if !ok {
				c.warnOnce(model, k, "expert option ignored: num_predict is not a whole number", v)
				continue
			}
			if c.opts.NumPredict > 0 && (n <= 0 || n > c.opts.NumPredict) {
				c.warnOnce(model, k, "expert num_predict capped to the global NUM_PREDICT", v)
				continue
			}
			out[k] = n
		default:
			out[k] = v
		}
	}
	return out
}

func (c *Client) warnOnce(model, option, msg string, value any) {
	if _, seen := c.warned.LoadOrStore(model+"\x00"+option, true); seen {
		return
	}
	c.log.Warn(msg, "model", model, "option", option, "value", value,
		"num_ctx", c.opts.NumCtx, "num_predict", c.opts.NumPredict)
}

// asInt reads a whole number from YAML- or JSON-decoded values.
func asInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case int32:
		return int(n), true
	case uint64:
		if n > math.MaxInt32 {
			return 0, false
		}
		return int(n), true
	case float64:
		if n != math.Trunc(n) || math.Abs(n) > math.MaxInt32 {
			return 0, false
		}
		return int(n), true
	default:
		return 0, false
	}
}
