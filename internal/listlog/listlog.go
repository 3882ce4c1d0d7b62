// Package listlog keeps a log of each list's events, one line per decision
// of the runners (delivered, hold, reject, commands carried out: the
// decision.Decision values, by their spelling), that the
// list's owners may fetch by mail (the log command, after Schleuder's
// x-get-logfile). It is a slog.Handler that passes every record on and
// appends the records whose message is "decision" and that name a list to
// STATE/log/LIST.log. The decision lines name no content of a post (for an
// encrypted post the runners log only fixed words), so neither does this log.
package listlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// MaxSize is the size at which a list's log is rotated: LIST.log becomes
// LIST.log.1 (replacing the one before), so a list keeps at most about
// twice this much.
const MaxSize = 1 << 20

// Handler is a slog.Handler that writes the decisions about lists to their
// logs and passes every record on to next.
type Handler struct {
	next  slog.Handler
	dir   string
	attrs []slog.Attr
	group bool // a group was opened: attribute names are not the runners'
	mu    *sync.Mutex
}

// New returns a handler writing list logs under dir.
func New(next slog.Handler, dir string) *Handler {
	return &Handler{next: next, dir: dir, mu: &sync.Mutex{}}
}

// Enabled implements slog.Handler: decisions are logged at Info.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo || h.next.Enabled(ctx, l)
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(as)
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &c
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	c.group = true
	return &c
}

// Handle implements slog.Handler. A list log that cannot be written does
// not fail the record: the operator's log still has it.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	var err error
	if h.next.Enabled(ctx, r.Level) {
		err = h.next.Handle(ctx, r)
	}
	if r.Message != "decision" || h.group || h.dir == "" {
		return err
	}
	list := ""
	var b strings.Builder
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	b.WriteString(t.UTC().Format(time.RFC3339))
	add := func(a slog.Attr) bool {
		a.Value = a.Value.Resolve()
		switch a.Key {
		case "list":
			list = a.Value.String()
		case "runner", "decision", "id", "recipients", "reason", "rule", "handler", "from", "subscriber",
			"results", "owners", "kind", "auth", "subaddress", "deferred", "failed", "held_id", "setting",
			"copies", "mails", "format", "volume", "issue", "posts", "encrypted", "subscribers", "score", "status":
			fmt.Fprintf(&b, " %s=%s", a.Key, quote(a.Value.String()))
		}
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	if name := FileName(list); name != "" {
		h.write(filepath.Join(h.dir, name), b.String()+"\n")
	}
	return err
}

// quote writes a value as logfmt does: bare when it is one plain word.
func quote(v string) string {
	if v == "" || strings.ContainsAny(v, " \t\r\n\"=\\") || !utf8.ValidString(v) {
		return strconv.Quote(v)
	}
	return v
}

// FileName is the name of a list's log, or "" for an address that cannot
// name a file.
func FileName(list string) string {
	list = strings.ToLower(strings.TrimSpace(list))
	if list == "" || strings.HasPrefix(list, ".") || len(list) > 254 {
		return ""
	}
	for _, r := range list {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("@._+-", r)) {
			return ""
		}
	}
	return list + ".log"
}

func (h *Handler) write(path, line string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := os.MkdirAll(h.dir, 0o750); err != nil {
		return
	}
	if fi, err := os.Stat(path); err == nil && fi.Size()+int64(len(line)) > MaxSize {
		os.Rename(path, path+".1")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return
	}
	f.WriteString(line) // one write with O_APPEND: lines of several processes do not interleave
	f.Close()
}

// Read returns the last max bytes of a list's log (the rotated part first),
// starting at a line.
func Read(dir, list string, max int) ([]byte, error) {
	name := FileName(list)
	if name == "" {
		return nil, fmt.Errorf("list log: %q is not a list address", list)
	}
	var all []byte
	for _, p := range []string{filepath.Join(dir, name+".1"), filepath.Join(dir, name)} {
		b, err := readTail(p, max)
		if err != nil {
			return nil, err
		}
		all = append(all, b...)
	}
	if len(all) > max {
		all = all[len(all)-max:]
		if i := bytes.IndexByte(all, '\n'); i >= 0 {
			all = all[i+1:]
		}
	}
	return all, nil
}

func readTail(path string, max int) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open list log: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("open list log: %w", err)
	}
	if fi.Size() > int64(max) {
		if _, err := f.Seek(fi.Size()-int64(max), io.SeekStart); err != nil {
			return nil, fmt.Errorf("read list log: %w", err)
		}
	}
	b, err := io.ReadAll(io.LimitReader(f, int64(max)))
	if err != nil {
		return nil, fmt.Errorf("read list log: %w", err)
	}
	return b, nil
}
