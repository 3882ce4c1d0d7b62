package archive

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/internal/safeio"
)

// File name suffixes of archived messages in the Maildir's new/ (and cur/,
// where a mail client may move them).
const (
	plainSuffix     = ".cloister"
	encryptedSuffix = ".cloister-pgp"
)

// Store is one list's archive, a Maildir (DESIGN.md section 3:
// archive/<list>/): one file per message, written atomically and named
// after the queue entry id, so a repeated hand-over replaces rather than
// duplicates and writers need no lock. Entry ids begin with the time the
// post was received, so names sort by date.
type Store struct {
	// Dir is the Maildir (config.ArchiveDir).
	Dir string
}

// Entry is one archived message.
type Entry struct {
	// N numbers the entry from 1, oldest first (the number get takes).
	N int
	// ID is the queue entry id the message was archived under.
	ID string
	// Path is the file.
	Path string
	// Size is the file's size.
	Size int64
	// Encrypted says whether the file is encrypted to the archive key.
	Encrypted bool
	// Time is when the post was received (from its id; else the file time).
	Time time.Time
}

// checkID refuses ids that are not plain file names.
func checkID(id string) error {
	if id == "" || len(id) > 200 || strings.ContainsAny(id, "/\\:\x00") || strings.HasPrefix(id, ".") {
		return fmt.Errorf("archive id %q is not a plain name", id)
	}
	return nil
}

// Append archives msg under id: encrypted to the archive key when to is
// not nil, else as it is. It returns the file written. An earlier copy
// under the same id is replaced.
func (s *Store) Append(id string, msg []byte, to *openpgp.Entity, now time.Time) (string, error) {
	if err := checkID(id); err != nil {
		return "", err
	}
	suffix, other := plainSuffix, encryptedSuffix
	if to != nil {
		suffix, other = encryptedSuffix, plainSuffix
	}
	for _, sub := range []string{"tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(s.Dir, sub), 0o750); err != nil {
			return "", fmt.Errorf("create archive %s: %w", s.Dir, err)
		}
	}
	path := filepath.Join(s.Dir, "new", id+suffix)
	err := safeio.WriteFunc(path, 0o640, func(w io.Writer) error {
		if to == nil {
			_, err := w.Write(msg)
			return err
		}
		// Encrypted as it is written: the post is not held a second time.
		bw := bufio.NewWriterSize(w, 64<<10)
		if err := EncryptTo(bw, msg, to, now); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		return "", fmt.Errorf("archive %s: %w", id, err)
	}
	os.Remove(filepath.Join(s.Dir, "new", id+other))
	return path, nil
}

// Entries returns the archived messages, oldest first, numbered from 1. A
// missing archive is empty.
func (s *Store) Entries() ([]Entry, error) {
	var out []Entry
	for _, sub := range []string{"new", "cur"} {
		ents, err := os.ReadDir(filepath.Join(s.Dir, sub))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read archive %s: %w", s.Dir, err)
		}
		for _, d := range ents {
			if !d.Type().IsRegular() || strings.HasPrefix(d.Name(), ".") {
				continue
			}
			name := d.Name()
			if i := strings.IndexByte(name, ':'); i >= 0 { // Maildir info of cur/
				name = name[:i]
			}
			e := Entry{Path: filepath.Join(s.Dir, sub, d.Name())}
			switch {
			case strings.HasSuffix(name, encryptedSuffix):
				e.ID, e.Encrypted = strings.TrimSuffix(name, encryptedSuffix), true
			default:
				e.ID = strings.TrimSuffix(name, plainSuffix)
			}
			if fi, err := d.Info(); err == nil {
				e.Size, e.Time = fi.Size(), fi.ModTime()
			}
			if t, ok := idTime(e.ID); ok {
				e.Time = t
			}
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ID != out[j].ID {
			return out[i].ID < out[j].ID
		}
		return out[i].Path < out[j].Path
	})
	for i := range out {
		out[i].N = i + 1
	}
	return out, nil
}

// idTime reads the time at the start of an entry id (<unix-nanos>+...).
func idTime(id string) (time.Time, bool) {
	nanos, _, ok := strings.Cut(id, "+")
	if !ok {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(nanos, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	return time.Unix(0, n).UTC(), true
}

// Entry returns the archived message numbered n (from 1, as Entries
// numbers them).
func (s *Store) Entry(n int) (Entry, error) {
	es, err := s.Entries()
	if err != nil {
		return Entry{}, err
	}
	if n < 1 || n > len(es) {
		return Entry{}, fmt.Errorf("the archive has %d messages, no number %d: %w", len(es), n, ErrNoEntry)
	}
	return es[n-1], nil
}

// ErrNoEntry means there is no archived message with that number.
var ErrNoEntry = errors.New("no such archived message")

// Read returns an entry's message: decrypted with key when the file is
// encrypted (ErrEncrypted when key is nil), else as stored.
func (s *Store) Read(e Entry, key *openpgp.Entity) ([]byte, error) {
	f, err := os.Open(e.Path)
	if err != nil {
		return nil, fmt.Errorf("read archived message %d: %w", e.N, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 2*MaxMessage+1))
	if err != nil {
		return nil, fmt.Errorf("read archived message %d: %w", e.N, err)
	}
	if len(b) > 2*MaxMessage {
		return nil, fmt.Errorf("archived message %d is larger than %d bytes", e.N, 2*MaxMessage)
	}
	if !e.Encrypted && !IsEncrypted(b) {
		return b, nil
	}
	if key == nil {
		return nil, fmt.Errorf("archived message %d: %w", e.N, ErrEncrypted)
	}
	return Decrypt(b, key)
}

// Expire removes the messages received before the given time and returns
// how many it removed.
func (s *Store) Expire(before time.Time) (int, error) {
	es, err := s.Entries()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range es {
		if !e.Time.Before(before) {
			continue
		}
		if err := os.Remove(e.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, fmt.Errorf("expire archived message: %w", err)
		}
		n++
	}
	return n, nil
}

// expireStamp is the file whose time records a list's last expiry run.
const expireStamp = ".expired"

// ExpireEvery removes messages older than keepDays (0 keeps them for ever)
// at most once per interval, as recorded by a stamp file in the Maildir, so
// that a runner may call it after every message.
func (s *Store) ExpireEvery(keepDays int, now time.Time, interval time.Duration) (int, error) {
	if keepDays <= 0 {
		return 0, nil
	}
	stamp := filepath.Join(s.Dir, expireStamp)
	if fi, err := os.Stat(stamp); err == nil && now.Sub(fi.ModTime()) < interval && !fi.ModTime().After(now) {
		return 0, nil
	}
	n, err := s.Expire(now.AddDate(0, 0, -keepDays))
	if err != nil {
		return n, err
	}
	if err := os.WriteFile(stamp, nil, 0o640); err != nil {
		return n, fmt.Errorf("expiry stamp: %w", err)
	}
	os.Chtimes(stamp, now, now)
	return n, nil
}
