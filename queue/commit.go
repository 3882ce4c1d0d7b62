package queue

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"cloister/internal/safeio"
)

// The hand-over protocol (docs/design.md, "Exactly-once hand-overs"): a claim
// is disposed of by Commit, which
//
//  1. stages every output in its destination queue under a hidden name that
//     no runner lists (.staged-<pid>-<source queue>-<n>.<gen>-<claim>), fsyncs it
//     and the destination directory;
//  2. writes the claim's ledger (.commit-<claim> in the source queue, holding
//     the claim's name and generation and the staged and final names of its
//     outputs) durably: this is the commit point;
//  3. publishes each output by renaming it to its final .msg name, and fsyncs
//     the destination directories;
//  4. removes the claim, fsyncs the source directory, removes the ledger.
//
// Recovery rolls a claim with a ledger of its generation forward (steps 3
// and 4; an output whose staged file is gone was published already) instead
// of processing it again, and removes staged files that no ledger names.

const (
	prefixLedger = ".commit-"
	prefixStaged = ".staged-"
)

// ErrCommitted marks an error returned by Commit after its hand-over was
// decided (the ledger is durable): the outputs are published and the claim
// removed by Resume or by recovery, and the claim must not be processed again.
var ErrCommitted = errors.New("hand-over committed but not finished")

// Output is one entry a claim hands over.
type Output struct {
	Queue *Queue
	Meta  *Meta
	Body  io.Reader
	// NotBefore names the entry after the earliest time it may be processed;
	// zero names it after Meta.ID (which must then be set), as Handover does.
	NotBefore time.Time
}

// ledger is the commit record of one claim.
type ledger struct {
	Claim   string         `json:"claim"`
	Gen     string         `json:"gen"`
	Outputs []ledgerOutput `json:"outputs"`
}

type ledgerOutput struct {
	// Queue is the destination's name: a sibling of the source queue's
	// directory (every queue of a site is).
	Queue  string `json:"queue"`
	Staged string `json:"staged"` // file name while staged
	Name   string `json:"name"`   // file name once published
}

// newGen returns a fresh generation for an entry file.
func newGen() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return strconv.FormatInt(time.Now().UnixNano(), 16)
	}
	return hex.EncodeToString(b[:])
}

func (q *Queue) ledgerPath(claim string) string {
	return filepath.Join(q.Dir, prefixLedger+claim)
}

// abs resolves a ledger's destination directory.
func (q *Queue) abs(name string) string {
	return filepath.Join(filepath.Dir(q.Dir), filepath.Base(name))
}

// Commit disposes of a claimed entry exactly once: it writes every output
// and removes the claim, so that a crash at any point leaves either the claim
// (and no output) or the outputs (and, until recovery, a ledger). With no
// outputs it is Finish. An error wrapping ErrCommitted means the hand-over
// happened but is not finished: call Resume (or let recovery do it); any
// other error means nothing happened and the claim is still held.
func (q *Queue) Commit(e *Entry, outs []Output) error {
	if len(outs) == 0 {
		return q.Finish(e)
	}
	l := &ledger{Claim: e.Name, Gen: e.Meta.Gen}
	var staged, dirs []string
	keep := false
	defer func() {
		if !keep {
			for _, p := range staged {
				os.Remove(p)
			}
		}
	}()
	for _, o := range outs {
		if filepath.Dir(o.Queue.Dir) != filepath.Dir(q.Dir) {
			return fmt.Errorf("hand %s over to %s: not a queue beside %s", e.Name, o.Queue.Dir, q.Name)
		}
	}
	for i, o := range outs {
		tmp, name, err := o.Queue.prepare(o.Meta, o.Body, 0, o.NotBefore)
		if err != nil {
			return fmt.Errorf("hand %s over to %s: %w", e.Name, o.Queue.Name, err)
		}
		// The output's fresh generation makes the name unique even for a
		// writer that has the pid of one before it (a restarted container).
		sn := prefixStaged + strconv.Itoa(os.Getpid()) + "-" + q.Name + "-" + strconv.Itoa(i) + "." + o.Meta.Gen + "-" + e.Name
		path := filepath.Join(o.Queue.Dir, sn)
		err = fault(PointRename)
		if err == nil {
			err = os.Rename(tmp, path)
		}
		if err != nil {
			os.Remove(tmp)
			return fmt.Errorf("stage hand-over of %s to %s: %w", e.Name, o.Queue.Name, err)
		}
		staged = append(staged, path)
		l.Outputs = append(l.Outputs, ledgerOutput{Queue: filepath.Base(o.Queue.Dir), Staged: sn, Name: name + extMsg})
		if !contains(dirs, o.Queue.Dir) {
			dirs = append(dirs, o.Queue.Dir)
		}
	}
	for _, d := range dirs {
		if err := safeio.SyncDir(d); err != nil {
			return fmt.Errorf("stage hand-over of %s: %w", e.Name, err)
		}
	}
	if err := fault(PointStaged); err != nil {
		return fmt.Errorf("stage hand-over of %s: %w", e.Name, err)
	}
	line, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("encode ledger: %w", err)
	}
	lp := q.ledgerPath(e.Name)
	if err := safeio.WriteFunc(lp, 0o660, func(w io.Writer) error { _, err := w.Write(line); return err }); err != nil {
		// A ledger in place is whole (it was renamed there once written):
		// the hand-over is decided, and only its durability is in doubt.
		// Without one, nothing happened. When that cannot be told, keep the
		// staged files for recovery, which goes by the ledger.
		// (A ledger of an earlier claim of the same name is not ours.)
		there, serr := os.ReadFile(lp)
		if serr == nil && bytes.Equal(there, line) {
			keep = true
			return fmt.Errorf("%w: write ledger of %s in queue %s: %w", ErrCommitted, e.Name, q.Name, err)
		}
		if serr != nil && !errors.Is(serr, os.ErrNotExist) {
			keep = true
		}
		return fmt.Errorf("write ledger of %s in queue %s: %w", e.Name, q.Name, err)
	}
	keep = true
	if err := fault(PointCommitted); err != nil {
		return fmt.Errorf("%w: %w", ErrCommitted, err)
	}
	if err := q.finish(l, true); err != nil {
		return fmt.Errorf("%w: %w", ErrCommitted, err)
	}
	return nil
}

// Resume finishes a claim whose Commit failed with ErrCommitted.
func (q *Queue) Resume(e *Entry) error {
	l, err := q.readLedger(e.Name)
	if errors.Is(err, os.ErrNotExist) {
		if _, serr := os.Stat(e.Path()); errors.Is(serr, os.ErrNotExist) {
			return nil // finished already: the ledger goes last
		}
	}
	if err != nil {
		return err
	}
	return q.finish(l, l.Gen == e.Meta.Gen)
}

// finish performs steps 3 and 4 of the protocol: publish every staged output
// (one already gone was published), then remove the claim (when it is the
// ledger's generation) and the ledger.
func (q *Queue) finish(l *ledger, removeClaim bool) error {
	var dirs []string
	for _, o := range l.Outputs {
		dir := q.abs(o.Queue)
		err := fault(PointRename)
		if err == nil {
			err = os.Rename(filepath.Join(dir, o.Staged), filepath.Join(dir, o.Name))
		}
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("publish %s in %s: %w", o.Name, dir, err)
		}
		if !contains(dirs, dir) {
			dirs = append(dirs, dir)
		}
	}
	for _, d := range dirs {
		if err := safeio.SyncDir(d); err != nil {
			return err
		}
	}
	if err := fault(PointPublished); err != nil {
		return err
	}
	if removeClaim {
		err := fault(PointRemove)
		if err == nil {
			err = os.Remove(filepath.Join(q.Dir, l.Claim+extBak))
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("finish %s in queue %s: %w", l.Claim, q.Name, err)
		}
		if err := safeio.SyncDir(q.Dir); err != nil {
			return err
		}
	}
	if err := fault(PointFinished); err != nil {
		return err
	}
	// A ledger left behind (its removal need not be durable) names no claim
	// of its generation, and the next recovery removes it.
	if err := os.Remove(q.ledgerPath(l.Claim)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove ledger of %s in queue %s: %w", l.Claim, q.Name, err)
	}
	return nil
}

func (q *Queue) readLedger(claim string) (*ledger, error) {
	b, err := os.ReadFile(q.ledgerPath(claim))
	if err != nil {
		return nil, fmt.Errorf("read ledger of %s in queue %s: %w", claim, q.Name, err)
	}
	l := &ledger{}
	if err := json.Unmarshal(b, l); err != nil || l.Claim != claim {
		return nil, fmt.Errorf("ledger of %s in queue %s: %w", claim, q.Name, ErrCorrupt)
	}
	return l, nil
}

// recoverLedgers rolls forward every hand-over of the slice that was
// committed but not finished, and removes ledgers left after their claim. It
// returns how many claims it finished.
func (q *Queue) recoverLedgers(s Slice) (int, error) {
	d, err := os.ReadDir(q.Dir)
	if err != nil {
		return 0, fmt.Errorf("list queue %s: %w", q.Name, err)
	}
	n := 0
	for _, de := range d {
		claim, ok := strings.CutPrefix(de.Name(), prefixLedger)
		if !ok || !s.Contains(claim) {
			continue
		}
		l, err := q.readLedger(claim)
		if err != nil {
			return n, err
		}
		// The claim is this ledger's when its generation matches; a claim of
		// another generation is a later claim of the same name, which this
		// old ledger must not finish.
		e, oerr := q.open(claim, extBak)
		own := false
		switch {
		case oerr == nil:
			own = e.Meta.Gen == l.Gen
		case errors.Is(oerr, os.ErrNotExist):
		default:
			own = l.Gen == "" // an unreadable claim has no generation
		}
		if err := q.finish(l, own); err != nil {
			return n, err
		}
		if own {
			n++
		}
	}
	return n, nil
}

// removeOrphanStaged deletes the outputs this queue's claims staged in any
// queue beside it (those without a runner too) whose writer is gone and that
// no ledger names: their hand-over was never committed, and their claim is
// processed again.
func (q *Queue) removeOrphanStaged() error {
	root := filepath.Dir(q.Dir)
	dirs, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("list queues in %s: %w", root, err)
	}
	for _, dd := range dirs {
		if !dd.IsDir() {
			continue
		}
		dir := filepath.Join(root, dd.Name())
		d, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("list queue %s: %w", dd.Name(), err)
		}
		for _, de := range d {
			name := de.Name()
			rest, ok := strings.CutPrefix(name, prefixStaged)
			if !ok {
				continue
			}
			parts := strings.SplitN(rest, "-", 4)
			if len(parts) < 4 || parts[1] != q.Name {
				continue
			}
			pid, err := strconv.Atoi(parts[0])
			if err != nil || pid <= 0 {
				continue
			}
			if err := syscall.Kill(pid, 0); err == nil || errors.Is(err, syscall.EPERM) {
				continue // the writer is alive
			}
			l, err := q.readLedger(parts[3])
			if err == nil {
				named := false
				for _, o := range l.Outputs {
					named = named || (o.Staged == name && q.abs(o.Queue) == dir)
				}
				if named {
					continue // committed: recoverLedgers publishes it
				}
			} else if !errors.Is(err, os.ErrNotExist) {
				continue // an unreadable ledger: leave the file to the operator
			}
			if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("remove orphan %s: %w", name, err)
			}
		}
	}
	return nil
}

// journalPrefix names the outgoing runner's progress journals in its queue:
// .progress-<entry id>.
const journalPrefix = ".progress-"

// removeStaleJournals deletes progress journals left after their entry was
// finished (the runner removes its journal only after the claim, so a crash
// in between leaves it). A journal is live while an entry with its digest is
// in the queue, claimed or not; journals are listed before entries, so one
// created meanwhile is never taken for stale.
func (q *Queue) removeStaleJournals() error {
	d, err := os.ReadDir(q.Dir)
	if err != nil {
		return fmt.Errorf("list queue %s: %w", q.Name, err)
	}
	var journals []string
	for _, de := range d {
		if strings.HasPrefix(de.Name(), journalPrefix) {
			journals = append(journals, de.Name())
		}
	}
	if len(journals) == 0 {
		return nil
	}
	d, err = os.ReadDir(q.Dir)
	if err != nil {
		return fmt.Errorf("list queue %s: %w", q.Name, err)
	}
	live := map[string]bool{}
	for _, de := range d {
		n := de.Name()
		if !strings.HasPrefix(n, ".") && (strings.HasSuffix(n, extMsg) || strings.HasSuffix(n, extBak)) {
			live[digestOf(n[:len(n)-len(extMsg)])] = true
		}
	}
	for _, j := range journals {
		if live[digestOf(strings.TrimPrefix(j, journalPrefix))] {
			continue
		}
		if err := os.Remove(filepath.Join(q.Dir, j)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove stale journal %s: %w", j, err)
		}
	}
	return nil
}

// JournalPath is where the outgoing runner keeps the progress journal of
// the entry with this ID in queue directory dir: .progress-<id>.
func JournalPath(dir, id string) string { return filepath.Join(dir, journalPrefix+id) }

// JournalLines returns the whole lines of a progress journal's bytes: the
// journal is written in place into a file made longer ahead with zeros
// (so that each record is an overwrite, synced with fdatasync), so its
// lines end at the first NUL byte, and a last line without its line end is
// torn (a crash mid-write) and left out.
func JournalLines(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return b[:bytes.LastIndexByte(b, '\n')+1]
}

// Progressed reports whether the entry's progress journal (the outgoing
// runner's .progress-<id> in the queue) holds more lines than when
// m.Progress was recorded, and records their present number in m. Lines,
// not the file's length: the runner makes the file longer ahead of its
// lines (see JournalLines).
func (q *Queue) Progressed(m *Meta) bool {
	b, err := os.ReadFile(JournalPath(q.Dir, m.ID))
	if err != nil {
		return false
	}
	n := int64(bytes.Count(JournalLines(b), []byte{'\n'}))
	grew := n > m.Progress
	m.Progress = n
	return grew
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Release gives a claim back unchanged: the .bak is renamed back to .msg (no
// write, so it works on a full disk). Only for a claim no Commit decided.
func (q *Queue) Release(e *Entry) error {
	err := fault(PointRename)
	if err == nil {
		err = os.Rename(e.Path(), filepath.Join(q.Dir, e.Name+extMsg))
	}
	if err != nil {
		return fmt.Errorf("release %s in queue %s: %w", e.Name, q.Name, err)
	}
	return safeio.SyncDir(q.Dir)
}
