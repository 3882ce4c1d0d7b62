// Package queue is Cloister's switchboard: durable on-disk queues of entries,
// one file each, named <unix-nanoseconds>+<hex digest>.msg, holding one line of
// JSON metadata, a newline, then the message bytes exactly as received or
// produced. Entries are claimed by renaming them to .bak, handed over by
// writing the next queue's entry before finishing the current one, recovered
// after a crash, and moved to the bad queue with a reason when they cannot be
// processed. The timestamp in a name is the earliest time the entry may be
// processed, so an entry put back for a later retry simply carries a later one.
package queue

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"cloister/internal/safeio"
)

// Queue names used by the runners (DESIGN.md section 1).
const (
	In       = "in"
	Command  = "command"
	Rules    = "rules"
	Pipeline = "pipeline"
	Archive  = "archive"
	Digest   = "digest"
	// Cover holds the cover runner's timers: one entry per list with
	// cover_traffic on, named for the time its next dummy falls due.
	Cover   = "cover"
	Out     = "out"
	Retry   = "retry"
	Bounces = "bounces"
	Bad     = "bad"
	// Held keeps posts waiting for a moderator; no runner reads it.
	Held = "held"
)

// Names lists every queue, in the order a post moves through them.
var Names = []string{In, Command, Rules, Pipeline, Archive, Digest, Cover, Out, Retry, Bounces, Bad}

// Dirs returns every queue directory of a site: Names, then Held.
func Dirs() []string { return append(append([]string{}, Names...), Held) }

const (
	extMsg = ".msg"
	extBak = ".bak"
	// MaxMetaSize bounds the metadata line; a longer one is a corrupt entry.
	MaxMetaSize = 16 << 20
)

var (
	// ErrTooLarge is returned by Enqueue when the message exceeds its limit.
	ErrTooLarge = errors.New("message exceeds the size limit")
	// ErrEmpty is returned by Enqueue for an empty message.
	ErrEmpty = errors.New("message is empty")
)

// Queue is one queue directory.
type Queue struct {
	Name string
	Dir  string
}

// Open returns the queue name under root (root/name), creating its directory.
func Open(root, name string) (*Queue, error) {
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o770); err != nil {
		return nil, fmt.Errorf("create queue %s: %w", dir, err)
	}
	return &Queue{Name: name, Dir: dir}, nil
}

// Entry is a claimed queue entry.
type Entry struct {
	Queue *Queue
	Name  string // file name without extension: <nanos>+<digest>
	Meta  *Meta

	bodyOffset int64
	// file is the file the entry was read from: its .bak when claimed,
	// its .msg when peeked at, so that Body reads a peeked entry too.
	file string
}

// Digest returns the hex digest part of the entry's name.
func (e *Entry) Digest() string { return digestOf(e.Name) }

// Path returns the path of the claimed (.bak) file.
func (e *Entry) Path() string { return filepath.Join(e.Queue.Dir, e.Name+extBak) }

// bodyPath is the file Body reads: the one the entry was read from.
func (e *Entry) bodyPath() string {
	if e.file != "" {
		return e.file
	}
	return e.Path()
}

// Body reads the message bytes of a claimed entry.
func (e *Entry) Body() ([]byte, error) {
	f, err := os.Open(e.bodyPath())
	if err != nil {
		return nil, fmt.Errorf("open entry %s: %w", e.Name, err)
	}
	defer f.Close()
	if _, err := f.Seek(e.bodyOffset, io.SeekStart); err != nil {
		return nil, fmt.Errorf("seek entry %s: %w", e.Name, err)
	}
	// Room for the whole body at once: io.ReadAll grows by doubling and
	// would hold up to twice a large post for as long as the body is used.
	var buf bytes.Buffer
	if fi, err := f.Stat(); err == nil && fi.Size() > e.bodyOffset {
		buf.Grow(int(fi.Size()-e.bodyOffset) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, fmt.Errorf("read entry %s: %w", e.Name, err)
	}
	return buf.Bytes(), nil
}

// BodyReader opens the message bytes of a claimed entry for streaming.
func (e *Entry) BodyReader() (io.ReadCloser, error) {
	f, err := os.Open(e.bodyPath())
	if err != nil {
		return nil, fmt.Errorf("open entry %s: %w", e.Name, err)
	}
	if _, err := f.Seek(e.bodyOffset, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("seek entry %s: %w", e.Name, err)
	}
	return f, nil
}

// NewID returns an entry ID for a message received now with the given digest.
func NewID(t time.Time, digest string) string {
	return strconv.FormatInt(t.UnixNano(), 10) + "+" + digest
}

func digestOf(name string) string {
	if i := strings.IndexByte(name, '+'); i >= 0 {
		return name[i+1:]
	}
	return name
}

// ReadyAt returns when the entry named name is due: a runner leaves an
// entry alone until then (its name starts with that time).
func ReadyAt(name string) (time.Time, bool) { return timeOf(name) }

func timeOf(name string) (time.Time, bool) {
	i := strings.IndexByte(name, '+')
	if i < 0 {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(name[:i], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, n), true
}

// Enqueue writes a new entry durably. It streams body into a temp file,
// enforcing limit (bytes; 0 means no limit), and names the entry after its
// digest. When meta.ID is empty it is set. The digest of a new message covers
// its bytes, list and time; an entry handed over from another stage keeps the
// digest of its ID, so slices stay stable along the way.
func (q *Queue) Enqueue(meta *Meta, body io.Reader, limit int64) (string, error) {
	return q.EnqueueAt(meta, body, limit, time.Now())
}

// EnqueueAt is Enqueue with the earliest processing time given (for retries).
// For an entry whose meta.ID is set, a zero notBefore names it after its ID
// (see Handover). New entries (empty ID) are spooled while hashed, so memory
// stays bounded whatever the message size.
func (q *Queue) EnqueueAt(meta *Meta, body io.Reader, limit int64, notBefore time.Time) (string, error) {
	tmpName, name, err := q.prepare(meta, body, limit, notBefore)
	if err != nil {
		return "", err
	}
	if err := q.publish(tmpName, name); err != nil {
		os.Remove(tmpName)
		return "", err
	}
	return name, nil
}

// prepare writes an entry to a temp file in the queue, fsynced and closed,
// and returns the temp file and the name the entry is to have. Every write
// gives the entry a fresh generation (Meta.Gen). On error nothing is left.
func (q *Queue) prepare(meta *Meta, body io.Reader, limit int64, notBefore time.Time) (tmpName, name string, err error) {
	if meta.Received.IsZero() {
		meta.Received = time.Now().UTC()
	}
	meta.Gen = newGen()
	if err := fault(PointCreate); err != nil {
		return "", "", fmt.Errorf("create temp in queue %s: %w", q.Name, err)
	}
	tmp, err := os.CreateTemp(q.Dir, safeio.TempPattern(safeio.TempPrefix))
	if err != nil {
		return "", "", fmt.Errorf("create temp in queue %s: %w", q.Name, err)
	}
	path := tmp.Name()
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(path)
		}
	}()
	if meta.ID != "" {
		line, err := json.Marshal(meta)
		if err != nil {
			return "", "", fmt.Errorf("encode metadata: %w", err)
		}
		w := bufio.NewWriterSize(tmp, 64<<10)
		w.Write(line)
		w.WriteByte('\n')
		n, err := io.Copy(w, limitReader(body, limit))
		if err != nil {
			return "", "", fmt.Errorf("write entry to queue %s: %w", q.Name, err)
		}
		if limit > 0 && n > limit {
			return "", "", ErrTooLarge
		}
		if err := w.Flush(); err != nil {
			return "", "", fmt.Errorf("write entry to queue %s: %w", q.Name, err)
		}
		name = strconv.FormatInt(notBefore.UnixNano(), 10) + "+" + digestOf(meta.ID)
		if notBefore.IsZero() {
			name = meta.ID
		}
	} else if name, err = q.writeNew(tmp, meta, body, limit, notBefore); err != nil {
		return "", "", err
	}
	if err := fault(PointWrite); err != nil {
		return "", "", fmt.Errorf("write entry to queue %s: %w", q.Name, err)
	}
	if err := fault(PointSync); err != nil {
		return "", "", fmt.Errorf("sync entry in queue %s: %w", q.Name, err)
	}
	if err := tmp.Sync(); err != nil {
		return "", "", fmt.Errorf("sync entry in queue %s: %w", q.Name, err)
	}
	if err := tmp.Close(); err != nil {
		return "", "", fmt.Errorf("close entry in queue %s: %w", q.Name, err)
	}
	return path, name, nil
}

// inMemoryBody is how much of a new entry's body writeNew holds in memory:
// a body that fits is hashed first and written with its metadata line in one
// write; a larger one is streamed (see writeNew). Memory stays bounded by it.
const inMemoryBody = 1 << 20

// writeNew writes a new entry (metadata line + body) to tmp while hashing the
// body, and returns the entry's name. The metadata line holds the ID, which
// holds the digest of the body; no other file is written for it. A body up to
// inMemoryBody is read first, so that the entry is written at once. A larger
// body is streamed after a metadata line whose ID carries a placeholder digest
// of the same length; once the body is written, the line is rewritten in place
// with the real ID (hex digits, so the line keeps its length). Either way the
// file is the same, and only the caller's fsync and rename make it visible.
func (q *Queue) writeNew(tmp *os.File, meta *Meta, body io.Reader, limit int64, notBefore time.Time) (name string, err error) {
	defer func() {
		if err != nil {
			meta.ID = ""
		}
	}()
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%d\x00", meta.List, meta.Recipient, meta.Received.UnixNano())
	src := limitReader(body, limit)
	head := make([]byte, 0, 64<<10)
	for len(head) < inMemoryBody {
		if len(head) == cap(head) {
			head = append(head, 0)[:len(head)]
		}
		n, rerr := src.Read(head[len(head):cap(head)])
		head = head[:len(head)+n]
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return "", fmt.Errorf("read message for queue %s: %w", q.Name, rerr)
		}
	}
	if limit > 0 && int64(len(head)) > limit {
		return "", ErrTooLarge
	}
	if len(head) == 0 {
		return "", ErrEmpty
	}
	h.Write(head)
	if len(head) < inMemoryBody {
		// The whole body is here: one write of line and body.
		digest := hex.EncodeToString(h.Sum(nil)[:20])
		meta.ID = NewID(meta.Received, digest)
		line, err := json.Marshal(meta)
		if err != nil {
			return "", fmt.Errorf("encode metadata: %w", err)
		}
		buf := make([]byte, 0, len(line)+1+len(head))
		buf = append(append(append(buf, line...), '\n'), head...)
		if _, err := tmp.Write(buf); err != nil {
			return "", fmt.Errorf("write entry to queue %s: %w", q.Name, err)
		}
		return strconv.FormatInt(notBefore.UnixNano(), 10) + "+" + digest, nil
	}
	meta.ID = NewID(meta.Received, strings.Repeat("0", 40))
	placeholder, err := json.Marshal(meta)
	if err != nil {
		return "", fmt.Errorf("encode metadata: %w", err)
	}
	w := bufio.NewWriterSize(tmp, 64<<10)
	w.Write(placeholder)
	w.WriteByte('\n')
	w.Write(head)
	n, err := io.Copy(io.MultiWriter(w, h), src)
	if err != nil {
		return "", fmt.Errorf("write entry to queue %s: %w", q.Name, err)
	}
	if limit > 0 && int64(len(head))+n > limit {
		return "", ErrTooLarge
	}
	if err := w.Flush(); err != nil {
		return "", fmt.Errorf("write entry to queue %s: %w", q.Name, err)
	}
	digest := hex.EncodeToString(h.Sum(nil)[:20])
	meta.ID = NewID(meta.Received, digest)
	line, err := json.Marshal(meta)
	if err != nil {
		return "", fmt.Errorf("encode metadata: %w", err)
	}
	if len(line) != len(placeholder) {
		return "", fmt.Errorf("write entry to queue %s: metadata line changed length (%d, was %d)", q.Name, len(line), len(placeholder))
	}
	if _, err := tmp.WriteAt(line, 0); err != nil {
		return "", fmt.Errorf("write entry to queue %s: %w", q.Name, err)
	}
	return strconv.FormatInt(notBefore.UnixNano(), 10) + "+" + digest, nil
}

// publish renames a prepared temp file into place as name.msg and fsyncs the
// directory.
func (q *Queue) publish(tmpName, name string) error {
	if testHookBeforeRename != nil {
		if err := testHookBeforeRename(tmpName); err != nil {
			return err
		}
	}
	if err := fault(PointRename); err != nil {
		return fmt.Errorf("rename entry in queue %s: %w", q.Name, err)
	}
	if err := os.Rename(tmpName, filepath.Join(q.Dir, name+extMsg)); err != nil {
		return fmt.Errorf("rename entry in queue %s: %w", q.Name, err)
	}
	return safeio.SyncDir(q.Dir)
}

// Handover writes an entry produced from another stage's entry. meta.ID must
// be set; the entry is named after it, so that writing the same hand-over again
// after a crash replaces the first copy instead of duplicating it.
func (q *Queue) Handover(meta *Meta, body io.Reader) error {
	if meta.ID == "" {
		return errors.New("handover without an entry id")
	}
	if _, err := q.EnqueueAt(meta, body, 0, time.Time{}); err != nil {
		return err
	}
	return nil
}

// EnqueueBytes is Enqueue for a message already in memory.
func (q *Queue) EnqueueBytes(meta *Meta, body []byte) (string, error) {
	return q.Enqueue(meta, bytes.NewReader(body), 0)
}

// limitReader reads at most limit+1 bytes so that an oversized input is
// detected without reading it all.
func limitReader(r io.Reader, limit int64) io.Reader {
	if limit <= 0 {
		return r
	}
	return io.LimitReader(r, limit+1)
}

// Slice is a part of the digest space that one process of a runner owns.
type Slice struct{ I, N int }

// All is the whole digest space.
var All = Slice{0, 1}

// ParseSlice parses "i/n" (0 <= i < n).
func ParseSlice(s string) (Slice, error) {
	if s == "" {
		return All, nil
	}
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Slice{}, fmt.Errorf("slice %q: want i/n with 0 <= i < n", s)
	}
	return Slice{i, n}, nil
}

// Contains reports whether the entry name's digest falls in the slice: the
// first 8 hex digits of the digest, as a number, modulo n.
func (s Slice) Contains(name string) bool {
	if s.N <= 1 {
		return true
	}
	d := digestOf(name)
	if len(d) > 8 {
		d = d[:8]
	}
	v, err := strconv.ParseUint(d, 16, 64)
	if err != nil {
		return s.I == 0
	}
	return int(v%uint64(s.N)) == s.I
}

// Ready returns the names of the .msg entries in the slice whose time has
// come, oldest first.
func (q *Queue) Ready(s Slice, now time.Time) ([]string, error) {
	names, err := q.list(extMsg, s)
	if err != nil {
		return nil, err
	}
	out := names[:0]
	for _, n := range names {
		if t, ok := timeOf(n); ok && t.After(now) {
			continue
		}
		out = append(out, n)
	}
	return out, nil
}

// Pending returns the names of all .msg entries in the slice, due or not.
func (q *Queue) Pending(s Slice) ([]string, error) { return q.list(extMsg, s) }

// Claimed returns the names of the .bak entries in the slice.
func (q *Queue) Claimed(s Slice) ([]string, error) { return q.list(extBak, s) }

// IsEntry reports whether file, a name in a queue's folder, is an entry
// Ready and Pending may list (name.msg), not a claimed entry, a temporary
// file or an outgoing entry's progress journal: a runner watching the
// folder rescans it only when such a file appears.
func IsEntry(file string) bool { return isFile(file, extMsg) }

// isFile reports whether file is an entry's file with extension ext.
func isFile(file, ext string) bool {
	return strings.HasSuffix(file, ext) && !strings.HasPrefix(file, ".")
}

func (q *Queue) list(ext string, s Slice) ([]string, error) {
	d, err := os.ReadDir(q.Dir)
	if err != nil {
		return nil, fmt.Errorf("list queue %s: %w", q.Name, err)
	}
	var names []string
	for _, de := range d {
		n := de.Name()
		if !isFile(n, ext) {
			continue
		}
		n = strings.TrimSuffix(n, ext)
		if s.Contains(n) {
			names = append(names, n)
		}
	}
	sort.Strings(names) // equal-width nanosecond prefixes sort by time
	return names, nil
}

// ErrGone means another process claimed the entry first.
var ErrGone = errors.New("entry is gone")

// Claim renames name.msg to name.bak and reads its metadata. ErrGone means
// another process claimed it first.
func (q *Queue) Claim(name string) (*Entry, error) {
	from := filepath.Join(q.Dir, name+extMsg)
	to := filepath.Join(q.Dir, name+extBak)
	if err := os.Rename(from, to); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, ErrGone
		}
		return nil, fmt.Errorf("claim %s in queue %s: %w", name, q.Name, err)
	}
	return q.open(name, extBak)
}

// Peek reads an entry's metadata without claiming it (for listings).
func (q *Queue) Peek(name string) (*Entry, error) {
	e, err := q.open(name, extMsg)
	if errors.Is(err, os.ErrNotExist) {
		e, err = q.open(name, extBak)
	}
	return e, err
}

func (q *Queue) open(name, ext string) (*Entry, error) {
	f, err := os.Open(filepath.Join(q.Dir, name+ext))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	meta, off, err := readMeta(f)
	if err != nil {
		return &Entry{Queue: q, Name: name, Meta: &Meta{ID: name}}, fmt.Errorf("entry %s in queue %s: %w", name, q.Name, err)
	}
	return &Entry{Queue: q, Name: name, Meta: meta, bodyOffset: off, file: f.Name()}, nil
}

// ErrCorrupt means an entry's metadata line cannot be read.
var ErrCorrupt = errors.New("corrupt metadata line")

func readMeta(r io.Reader) (*Meta, int64, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if err == nil {
			break
		}
		if err == bufio.ErrBufferFull && len(line) < MaxMetaSize {
			continue
		}
		if err != io.EOF && err != bufio.ErrBufferFull {
			return nil, 0, fmt.Errorf("read metadata: %w", err) // I/O, not the entry
		}
		return nil, 0, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	m := &Meta{}
	if err := json.Unmarshal(line, m); err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return m, int64(len(line)), nil
}

// Finish removes a claimed entry that hands nothing over: its processing is
// complete. (A claim with outputs is disposed of by Commit.)
func (q *Queue) Finish(e *Entry) error {
	err := fault(PointRemove)
	if err == nil {
		err = os.Remove(e.Path())
	}
	if err != nil {
		return fmt.Errorf("finish %s in queue %s: %w", e.Name, q.Name, err)
	}
	return safeio.SyncDir(q.Dir)
}

// Put writes a claimed entry back as .msg with new metadata, to be processed
// again at notBefore (zero: named after its id), and removes the claim,
// exactly once (see Commit).
func (q *Queue) Put(e *Entry, meta *Meta, notBefore time.Time) error {
	body, err := e.BodyReader()
	if err != nil {
		return err
	}
	defer body.Close()
	meta.ID = e.Meta.ID
	if meta.ID == "" {
		meta.ID = e.Name
	}
	if err := q.Commit(e, []Output{{Queue: q, Meta: meta, Body: body, NotBefore: notBefore}}); err != nil {
		return fmt.Errorf("put back %s: %w", e.Name, err)
	}
	return nil
}

// Update rewrites a claimed entry's metadata in place (atomically), keeping
// the claim; used to record progress before an attempt.
func (q *Queue) Update(e *Entry, meta *Meta) error {
	body, err := e.BodyReader()
	if err != nil {
		return err
	}
	defer body.Close()
	meta.Gen = e.Meta.Gen // the same claim: a ledger may not exist yet
	line, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("encode metadata: %w", err)
	}
	err = safeio.WriteFunc(e.Path(), 0o660, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 64<<10)
		bw.Write(line)
		bw.WriteByte('\n')
		if _, err := io.Copy(bw, body); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		return fmt.Errorf("update %s in queue %s: %w", e.Name, q.Name, err)
	}
	e.Meta = meta
	e.bodyOffset = int64(len(line) + 1)
	return nil
}

// Recover finishes the slice's hand-overs that a crash interrupted after
// their commit point, and puts the other claims (.bak) back as .msg. Putting
// back counts an attempt unless the entry made progress since the last count
// (see Progressed); an entry that has reached maxAttempts goes to bad
// instead. It returns how many claims were finished or put back and how many
// went bad.
func (q *Queue) Recover(s Slice, bad *Queue, maxAttempts int) (recovered, wentBad int, err error) {
	if err := q.removeStaleTemps(); err != nil {
		return 0, 0, err
	}
	if err := q.removeOrphanStaged(); err != nil {
		return 0, 0, err
	}
	recovered, err = q.recoverLedgers(s)
	if err != nil {
		return recovered, 0, err
	}
	if err := q.removeStaleJournals(); err != nil {
		return recovered, 0, err
	}
	names, err := q.Claimed(s)
	if err != nil {
		return recovered, 0, err
	}
	for _, n := range names {
		e, oerr := q.open(n, extBak)
		if oerr != nil {
			if errors.Is(oerr, os.ErrNotExist) {
				continue
			}
			if !errors.Is(oerr, ErrCorrupt) {
				return recovered, wentBad, oerr // an I/O error is not the entry's fault
			}
			if err := q.ToBad(e, bad, oerr.Error()); err != nil {
				return recovered, wentBad, err
			}
			wentBad++
			continue
		}
		m := e.Meta.Clone()
		if q.Progressed(m) {
			m.Attempts = 0 // an interruption that made progress is no failure
		} else {
			m.Attempts++
		}
		if m.Attempts >= maxAttempts {
			e.Meta = m
			if err := q.ToBad(e, bad, fmt.Sprintf("processing in queue %s was interrupted %d times", q.Name, m.Attempts)); err != nil {
				return recovered, wentBad, err
			}
			wentBad++
			continue
		}
		m.AddStage("recover", "interrupted claim in "+q.Name)
		if err := q.Put(e, m, time.Now()); err != nil {
			return recovered, wentBad, err
		}
		recovered++
	}
	return recovered, wentBad, nil
}

// RecoverInPlace is Recover for a queue whose entries are known by their
// names elsewhere (the held queue: each held record names its entry): it
// finishes the hand-overs a crash interrupted after their commit point, then
// puts every other claim back under its own name, unchanged (the rename
// back of the claim), counting no attempt. The caller must know that no
// live process holds a claim in the queue (the held queue's decision lock).
func (q *Queue) RecoverInPlace() (recovered int, err error) {
	if err := q.removeStaleTemps(); err != nil {
		return 0, err
	}
	if err := q.removeOrphanStaged(); err != nil {
		return 0, err
	}
	recovered, err = q.recoverLedgers(All)
	if err != nil {
		return recovered, err
	}
	names, err := q.Claimed(All)
	if err != nil {
		return recovered, err
	}
	for _, n := range names {
		err := fault(PointRename)
		if err == nil {
			err = os.Rename(filepath.Join(q.Dir, n+extBak), filepath.Join(q.Dir, n+extMsg))
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return recovered, fmt.Errorf("put back %s in queue %s: %w", n, q.Name, err)
		}
		recovered++
	}
	if len(names) > 0 {
		if err := safeio.SyncDir(q.Dir); err != nil {
			return recovered, err
		}
	}
	return recovered, nil
}

// ToBad moves a claimed entry to the bad queue with the reason, keeping its
// bytes exactly (a sealed entry stays sealed), exactly once (see Commit).
func (q *Queue) ToBad(e *Entry, bad *Queue, reason string) error {
	m := e.Meta.Clone()
	m.Reason = reason
	m.AddStage("bad", q.Name+": "+reason)
	if m.ID == "" {
		m.ID = e.Name
	}
	body, err := e.BodyReader()
	if err != nil {
		return err
	}
	defer body.Close()
	if err := q.Commit(e, []Output{{Queue: bad, Meta: m, Body: body, NotBefore: time.Now()}}); err != nil {
		return fmt.Errorf("move %s to bad: %w", e.Name, err)
	}
	return nil
}

// Remove deletes a pending (.msg) entry, for operator commands.
func (q *Queue) Remove(name string) error {
	if err := os.Remove(filepath.Join(q.Dir, name+extMsg)); err != nil {
		return fmt.Errorf("remove %s from queue %s: %w", name, q.Name, err)
	}
	return safeio.SyncDir(q.Dir)
}

// Oldest returns how long the oldest ready entry has waited, or 0 (entries
// deferred to a later time are not waiting yet).
func (q *Queue) Oldest(now time.Time) (time.Duration, error) {
	names, err := q.Ready(All, now)
	if err != nil || len(names) == 0 {
		return 0, err
	}
	t, ok := timeOf(names[0])
	if !ok {
		return 0, nil
	}
	return now.Sub(t), nil
}
