package digest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"cloister/internal/safeio"
	"cloister/internal/site"
	"cloister/lists"
	"cloister/queue"
)

// Bounds of a digest.
const (
	MaxPosts = 500     // a digest is due once this many posts wait
	maxText  = 1 << 20 // text read from one post for a plain digest
)

// ErrEntryID is the error of Add for an entry whose id is not a plain
// file name: no retry makes it one.
var ErrEntryID = errors.New("entry id is not a plain name")

// Post is a post waiting for the next digest.
type Post struct {
	ID, Path string
	Size     int64
	At       time.Time
	Enc      string // how the post arrived encrypted; "" in clear
}

// Add stores a post for the next digest in dir, sealed when it holds the
// plaintext of an encrypted post.
func Add(s *site.Site, dir string, m *queue.Meta, body []byte) error {
	if strings.ContainsAny(m.ID, "/\\\x00") || strings.HasPrefix(m.ID, ".") || m.ID == "" {
		return fmt.Errorf("%w: %q", ErrEntryID, m.ID)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("create digest dir: %w", err)
	}
	name := m.ID + ".plain"
	if m.ArrivedEncrypted() {
		k, err := s.QueueKey()
		if err != nil {
			return fmt.Errorf("seal post for the digest: %w", err)
		}
		body = k.Seal(body, []byte(m.ID))
		name = m.ID + ".sealed-" + safeToken(m.Encryption)
	}
	return safeio.WriteFunc(filepath.Join(dir, name), 0o640, func(w io.Writer) error {
		_, err := w.Write(body)
		return err
	})
}

// safeToken keeps the letters, digits and hyphens of s.
func safeToken(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return -1
	}, strings.ToLower(s))
	if s == "" {
		return "encrypted"
	}
	return s
}

// Waiting lists the posts waiting in dir, oldest first.
func Waiting(dir string) ([]Post, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read digest dir: %w", err)
	}
	var out []Post
	for _, e := range ents {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := Post{Path: filepath.Join(dir, e.Name())}
		switch {
		case strings.HasSuffix(e.Name(), ".plain"):
			p.ID = strings.TrimSuffix(e.Name(), ".plain")
		case strings.Contains(e.Name(), ".sealed-"):
			i := strings.LastIndex(e.Name(), ".sealed-")
			p.ID, p.Enc = e.Name()[:i], e.Name()[i+len(".sealed-"):]
		default:
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		p.Size, p.At = fi.Size(), fi.ModTime()
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Remove removes the posts once their digest is sent.
func Remove(posts []Post) {
	for _, p := range posts {
		os.Remove(p.Path)
	}
}

// Read returns the bodies of the posts, unsealed, and how the first
// sealed one arrived encrypted ("" when all came in clear).
func Read(s *site.Site, posts []Post) (bodies [][]byte, enc string, err error) {
	for _, p := range posts {
		b, err := os.ReadFile(p.Path)
		if err != nil {
			return nil, "", fmt.Errorf("read post for the digest: %w", err)
		}
		if p.Enc != "" {
			k, err := s.QueueKey()
			if err != nil {
				return nil, "", err
			}
			if b, err = k.Open(b, []byte(p.ID)); err != nil {
				return nil, "", fmt.Errorf("open sealed post %s for the digest: %w", p.ID, err)
			}
			if enc == "" {
				enc = p.Enc
			}
		}
		bodies = append(bodies, b)
	}
	return bodies, enc, nil
}

// Due says whether the waiting posts make a digest now, and when the
// oldest of them makes one at the latest.
func Due(st lists.Settings, posts []Post, now time.Time) (bool, time.Time) {
	var total int64
	oldest := posts[0].At
	for _, p := range posts {
		total += p.Size
		if p.At.Before(oldest) {
			oldest = p.At
		}
	}
	at := oldest.Add(time.Duration(st.DigestPeriodHours) * time.Hour)
	return total >= int64(st.DigestSizeKB)*1024 || len(posts) >= MaxPosts || !now.Before(at), at
}
