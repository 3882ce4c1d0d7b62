package stats

import (
	"context"
	"fmt"
	"log/slog"

	"cloister/internal/decision"
)

// DecisionsFamily is the counter family of the decisions a runner made, one
// counter per decision: decisions_total{decision="hold"}.
const DecisionsFamily = "decisions_total"

// CountDecisions wraps a log handler so that every decision line (message
// "decision" with a decision.Decision as its "decision" attribute) also adds
// one to the counter of that decision, under the runner named by the
// line's "runner" attribute: the metrics count the decisions in the words
// the log lines and `cloister queue show` use. A line whose decision is not
// a decision.Decision is not counted (the vocabulary is closed), nor is a
// line logged in a group.
func CountDecisions(next slog.Handler) slog.Handler { return &decisionCounter{next: next} }

type decisionCounter struct {
	next    slog.Handler
	runner  string
	grouped bool
}

// Enabled implements slog.Handler: decision lines are counted whatever the
// log level, so the handler is enabled for them at Info and above.
func (h *decisionCounter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo || h.next.Enabled(ctx, l)
}

// Handle implements slog.Handler.
func (h *decisionCounter) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "decision" && !h.grouped {
		runner := h.runner
		var d decision.Decision
		r.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "runner":
				runner = a.Value.Resolve().String()
			case "decision":
				if v, ok := a.Value.Resolve().Any().(decision.Decision); ok {
					d = v
				}
			}
			return true
		})
		if d != 0 {
			Add(runner, fmt.Sprintf("%s{decision=%q}", DecisionsFamily, d.String()), 1)
		}
	}
	if !h.next.Enabled(ctx, r.Level) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h *decisionCounter) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(attrs)
	if !h.grouped {
		for _, a := range attrs {
			if a.Key == "runner" {
				c.runner = a.Value.Resolve().String()
			}
		}
	}
	return &c
}

// WithGroup implements slog.Handler.
func (h *decisionCounter) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	c.grouped = true
	return &c
}
