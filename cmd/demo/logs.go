package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
)

// capture is the handler of the demo site's logger (site.Open wraps it, so
// it is kept here rather than asserted back from the logger).
var capture = &captureHandler{}

// captureHandler keeps the runners' decision lines for the demo to print.
type captureHandler struct {
	mu    sync.Mutex
	out   []string
	attrs []slog.Attr
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "decision" && r.Message != "routed" {
		if r.Level < slog.LevelWarn {
			return nil
		}
	}
	var b strings.Builder
	b.WriteString(r.Message)
	add := func(a slog.Attr) {
		switch a.Key {
		case "entry", "list":
			return
		}
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(func(a slog.Attr) bool { add(a); return true })
	h.mu.Lock()
	h.out = append(h.out, b.String())
	h.mu.Unlock()
	return nil
}

func (h *captureHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &sharedHandler{root: h, attrs: append(append([]slog.Attr{}, h.attrs...), as...)}
}

func (h *captureHandler) WithGroup(string) slog.Handler { return h }

func (h *captureHandler) lines() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.out...)
}

// sharedHandler adds attributes and writes into its root's lines.
type sharedHandler struct {
	root  *captureHandler
	attrs []slog.Attr
}

func (h *sharedHandler) Enabled(ctx context.Context, l slog.Level) bool { return true }
func (h *sharedHandler) Handle(ctx context.Context, r slog.Record) error {
	tmp := &captureHandler{attrs: h.attrs}
	tmp.Handle(ctx, r)
	h.root.mu.Lock()
	h.root.out = append(h.root.out, tmp.out...)
	h.root.mu.Unlock()
	return nil
}
func (h *sharedHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &sharedHandler{root: h.root, attrs: append(append([]slog.Attr{}, h.attrs...), as...)}
}
func (h *sharedHandler) WithGroup(string) slog.Handler { return h }
