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
	// PointJournaled: a transaction's results are written in the journal
	// (a crash of the process keeps them; the group commit syncs them
	// shortly after); the next transaction has not started.
	PointJournaled = "journaled"
)

// journalBackoff is the first wait after a failed journal write; the waits
// double up to a minute.
var journalBackoff = time.Second

// journal is an outgoing entry's progress journal: one line per recipient
// the MTA accepted ("ok RCPT") or refused for good ("fail RCPT REPLY"). A
// refusal counted towards the member's bounce score is followed by
// "scored RCPT", so that a restart scores the refusals it has not.
//
// The lines are written in place into a file made longer ahead with zeros
// (queue.JournalLines reads up to the first NUL): a record that fits
// overwrites blocks the file already has and is made durable with
// fdatasync, which need not commit the file system's journal; only a
// record that makes the file longer is fsynced (about once per doubling).
// On ext4 here an overwrite and fdatasync took 100 µs of CPU and 250 µs,
// an append and fsync 170 µs and 640 µs. A record may be written without
// the sync (put), for the fan-out's group commit (groupJournal), which
// syncs what was put shortly after.
type journal struct {
	path     string
	f        *os.File
	all      bytes.Buffer // every line recorded, to rewrite the file after a failed write
	size     int64        // the file's length: the lines (all), then zeros
	broken   bool         // the last write or sync failed: the file may be torn
	unsynced bool         // lines were written that no sync has covered yet
}

// Journal lengths: a new journal's first extension, and the most one
// extension adds.
const (
	journalMinGrow = 4 << 10
	journalMaxGrow = 1 << 20
)

// openJournal opens (creating) the journal at path and returns the
// recipients it already holds ("" for accepted, the reply for refused) and
// the refusals already scored.
func openJournal(path string) (*journal, map[string]string, map[string]bool, error) {
	jn := &journal{path: path}
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil, fmt.Errorf("read progress journal: %w", err)
	}
	whole := queue.JournalLines(old) // without a torn last line
	jn.all.Write(whole)
	jn.f, err = os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("open progress journal: %w", err)
	}
	jn.size = int64(len(old))
	if bytes.ContainsFunc(old[len(whole):], func(r rune) bool { return r != 0 }) {
		jn.broken = true // a torn line: rewritten whole before the first new line
	}
	done, scored := parseJournal(whole)
	return jn, done, scored, nil
}

// record makes lines durable (written and synced) before it returns.
func (jn *journal) record(ctx context.Context, log *slog.Logger, lines string, tick func()) error {
	return jn.persist(ctx, log, lines, true, tick)
}

// put writes lines into the file before it returns, without the sync: they
// survive the process's crash (they are in the kernel's page cache), not
// yet the machine's; sync makes them durable.
func (jn *journal) put(ctx context.Context, log *slog.Logger, lines string, tick func()) error {
	return jn.persist(ctx, log, lines, false, tick)
}

// sync makes every line written so far durable.
func (jn *journal) sync(ctx context.Context, log *slog.Logger, tick func()) error {
	return jn.persist(ctx, log, "", true, tick)
}

// persist writes lines at the end of the journal and, with sync, makes
// every line durable. A failed write or sync stops the fan-out here:
// persist waits (backing off, as the loop does for a full disk or an I/O
// error) and rewrites the whole journal atomically until it succeeds, so
// what the MTA accepted is never sent again. It fails only when ctx is
// done; then the transaction just made is the one in flight.
func (jn *journal) persist(ctx context.Context, log *slog.Logger, lines string, sync bool, tick func()) error {
	lines = strings.ReplaceAll(lines, "\x00", "?") // a NUL in a reply would end the journal
	off := int64(jn.all.Len())
	jn.all.WriteString(lines)
	for n := 1; ; n++ {
		var err error
		if jn.broken {
			err = jn.rewrite()
		} else {
			err = jn.writeAt(off, lines, sync)
		}
		if err == nil {
			jn.broken = false
			return nil
		}
		jn.broken = true // after a failed write or sync, trust only a rewrite
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

// writeAt writes lines at off, where the lines before end, and with sync
// makes every line durable: with fdatasync when the lines fit in the file,
// else with the file made longer (zeros after the lines) and fsynced, which
// makes them durable in any case.
func (jn *journal) writeAt(off int64, lines string, sync bool) error {
	end := off + int64(len(lines))
	if lines != "" {
		if err := journalFault(); err != nil {
			return fmt.Errorf("write progress journal: %w", err)
		}
		buf := []byte(lines)
		grow := end > jn.size
		if grow {
			size := end + min(max(jn.size, journalMinGrow), journalMaxGrow)
			buf = append(buf, make([]byte, size-end)...)
		}
		if _, err := jn.f.WriteAt(buf, off); err != nil {
			return fmt.Errorf("write progress journal: %w", err)
		}
		if grow {
			if err := journalFault(); err != nil {
				return fmt.Errorf("sync progress journal: %w", err)
			}
			if err := jn.f.Sync(); err != nil {
				return fmt.Errorf("sync progress journal: %w", err)
			}
			jn.size = off + int64(len(buf))
			jn.unsynced = false
			return nil
		}
		jn.unsynced = true
	}
	if !sync || !jn.unsynced {
		return nil
	}
	if err := journalFault(); err != nil {
		return fmt.Errorf("sync progress journal: %w", err)
	}
	if err := datasync(jn.f); err != nil {
		return fmt.Errorf("sync progress journal: %w", err)
	}
	jn.unsynced = false
	return nil
}

// rewrite replaces the journal with everything recorded (temp file, fsync,
// rename) and reopens it.
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
	f, err := os.OpenFile(jn.path, os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("reopen progress journal: %w", err)
	}
	jn.f.Close()
	jn.f = f
	jn.size = int64(jn.all.Len())
	jn.unsynced = false
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

// parseJournal returns the recipients a journal's whole lines (see
// queue.JournalLines) hold ("" for
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
