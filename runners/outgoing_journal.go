package runners

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"cloister/internal/safeio"
	"cloister/queue"
)

// Fault points (queue.FaultHook) of the outgoing runner's fan-out.
const (
	// PointJournal: before each write and fsync of a progress journal.
	PointJournal = "journal"
	// PointAccepted: the MTA has answered a transaction (its 250 after
	// DATA); the journal does not record it yet. A crash here repeats that
	// transaction, the one in flight, and no other.
	PointAccepted = "accepted"
	// PointJournaled: a transaction's results are durable in the journal;
	// the next transaction has not started.
	PointJournaled = "journaled"
)

// journalBackoff is the first wait after a failed journal write; the waits
// double up to a minute.
var journalBackoff = time.Second

// journal is an outgoing entry's progress journal: one line per recipient
// the MTA accepted ("ok RCPT") or refused for good ("fail RCPT REPLY"). Each
// transaction's lines are durable (written and fsynced) before the next
// transaction starts, so a crash repeats at most the transaction in flight.
// A refusal counted towards the member's bounce score is followed by
// "scored RCPT", so that a restart scores the refusals it has not.
type journal struct {
	path   string
	f      *os.File
	all    bytes.Buffer // every line recorded, to rewrite the file after a failed write
	broken bool         // the last write or fsync failed: the file may be torn
}

// openJournal opens (creating) the journal at path and returns the
// recipients it already holds ("" for accepted, the reply for refused) and
// the refusals already scored.
func openJournal(path string) (*journal, map[string]string, map[string]bool, error) {
	jn := &journal{path: path}
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil, fmt.Errorf("read progress journal: %w", err)
	}
	whole := old[:bytes.LastIndexByte(old, '\n')+1] // without a torn last line
	jn.all.Write(whole)
	jn.f, err = os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("open progress journal: %w", err)
	}
	if len(whole) < len(old) {
		jn.broken = true // rewritten whole before the first new line
	}
	done, scored := parseJournal(whole)
	return jn, done, scored, nil
}

// record makes lines durable before it returns. A failed write or fsync
// stops the fan-out here: record waits (backing off, as the loop does for a
// full disk or an I/O error) and rewrites the whole journal atomically until
// it succeeds, so what the MTA accepted is never sent again. It fails only
// when ctx is done; then the transaction just made is the one in flight.
func (jn *journal) record(ctx context.Context, log *slog.Logger, lines string, tick func()) error {
	jn.all.WriteString(lines)
	for n := 1; ; n++ {
		var err error
		if jn.broken {
			err = jn.rewrite()
		} else {
			err = jn.appendSync(lines)
		}
		if err == nil {
			jn.broken = false
			return nil
		}
		jn.broken = true // after a failed write or fsync, trust only a rewrite
		delay := Backoff(n, journalBackoff, time.Minute)
		Waits.Add(1)
		if n == 1 || n%10 == 0 {
			log.Warn("progress journal cannot be written; the fan-out waits", "err", err, "in", delay, "tries", n,
				"temporary", Temporary(err))
		}
		if tick != nil {
			tick()
		}
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("write progress journal: %w (stopped: %v)", err, ctx.Err())
		case <-timer.C:
		}
	}
}

func (jn *journal) appendSync(lines string) error {
	if err := journalFault(); err != nil {
		return fmt.Errorf("write progress journal: %w", err)
	}
	if _, err := jn.f.WriteString(lines); err != nil {
		return fmt.Errorf("write progress journal: %w", err)
	}
	if err := journalFault(); err != nil {
		return fmt.Errorf("sync progress journal: %w", err)
	}
	if err := jn.f.Sync(); err != nil {
		return fmt.Errorf("sync progress journal: %w", err)
	}
	return nil
}

// rewrite replaces the journal with everything recorded (temp file, fsync,
// rename) and reopens it for appending.
func (jn *journal) rewrite() error {
	if err := journalFault(); err != nil {
		return fmt.Errorf("rewrite progress journal: %w", err)
	}
	err := safeio.WriteFunc(jn.path, 0o600, func(w io.Writer) error {
		_, err := w.Write(jn.all.Bytes())
		return err
	})
	if err != nil {
		return fmt.Errorf("rewrite progress journal: %w", err)
	}
	f, err := os.OpenFile(jn.path, os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("reopen progress journal: %w", err)
	}
	jn.f.Close()
	jn.f = f
	return nil
}

// Close closes the journal file.
func (jn *journal) Close() error { return jn.f.Close() }

func journalFault() error { return faultAt(PointJournal) }

// faultAt calls queue.FaultHook, when set, at a point.
func faultAt(point string) error {
	if queue.FaultHook == nil {
		return nil
	}
	return queue.FaultHook(point)
}

// parseJournal returns the recipients a journal's whole lines hold ("" for
// accepted, the reply for refused) and the refusals scored.
func parseJournal(text []byte) (map[string]string, map[string]bool) {
	done, scored := map[string]string{}, map[string]bool{}
	for _, l := range strings.Split(string(text), "\n") {
		if l == "" {
			continue
		}
		kind, rest, _ := strings.Cut(l, " ")
		rcpt, reply, _ := strings.Cut(rest, " ")
		switch kind {
		case "ok":
			done[rcpt] = ""
		case "fail":
			done[rcpt] = reply
		case "scored":
			scored[rcpt] = true
		}
	}
	return done, scored
}
