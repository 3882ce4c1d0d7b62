package distribute

import (
	"bytes"
	"strings"
	"testing"

	"cloister/mailmsg"
	"cloister/mailmsg/rawmime"
)

func TestCoverBucket(t *testing.T) {
	for _, c := range []struct{ n, want int }{
		{0, 4096}, {1, 4096}, {4096, 4096}, {4097, 8192}, {100 << 10, 128 << 10},
		{1 << 20, 1 << 20}, {1<<20 + 1, 2 << 20}, {5<<20 + 7, 6 << 20},
	} {
		if got := CoverBucket(c.n); got != c.want {
			t.Errorf("CoverBucket(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}

// TestPadToBucket: a padded entity's canonical form is exactly its bucket,
// for LF and CRLF entities of sizes around the edges of the padding lines
// and of the buckets; its body is unchanged and its padding lines are short.
func TestPadToBucket(t *testing.T) {
	for _, nl := range []string{"\n", "\r\n"} {
		for _, size := range []int{0, 1, 77, 78, 79, 80, 81, 4000, 4096 - 21, 4096 - 20, 4096, 5000, 70000} {
			body := strings.Repeat("x", size)
			ent := []byte("Content-Type: text/plain; charset=us-ascii" + nl + nl + body)
			got := padToBucket(ent)
			n := len(rawmime.Canonical(got))
			if want := CoverBucket(len(rawmime.Canonical(ent)) + padMin); n != want {
				t.Errorf("nl %q size %d: padded to %d, want %d", nl, size, n, want)
			}
			if !bytes.HasSuffix(got, ent) {
				t.Errorf("nl %q size %d: entity changed", nl, size)
			}
			m, err := mailmsg.Parse(got)
			if err != nil {
				t.Fatalf("nl %q size %d: %v", nl, size, err)
			}
			if m.Get("Content-Type") != "text/plain; charset=us-ascii" || string(m.Body) != body || !m.Has(PaddingField) {
				t.Errorf("nl %q size %d: padded entity reads wrong:\n%s", nl, size, got)
			}
			for _, line := range strings.Split(string(got[:len(got)-len(ent)]), nl) {
				if len(line) > padLine {
					t.Errorf("nl %q size %d: padding line of %d characters", nl, size, len(line))
				}
			}
		}
	}
}

// TestPadFieldExact: every size from the smallest up to several lines gives
// a field of exactly that many canonical bytes.
func TestPadFieldExact(t *testing.T) {
	for size := padMin; size < 400; size++ {
		f := padField(size, "\n")
		if n := len(rawmime.Canonical(f)); n != size {
			t.Fatalf("padField(%d) is %d bytes:\n%s", size, n, f)
		}
		if _, err := mailmsg.Parse(append(f, "\nbody"...)); err != nil {
			t.Fatalf("padField(%d) does not parse: %v\n%s", size, err, f)
		}
	}
}

// TestPadPartsToBucketSplits: an entity in pieces is padded to the same
// bucket as the whole entity, wherever its body is cut (also between the
// CR and the LF of a line end, and with empty pieces), for LF, CRLF and
// mixed line ends.
func TestPadPartsToBucketSplits(t *testing.T) {
	for _, ent := range []string{
		"Content-Type: text/plain\n\nline one\nline two\n",
		"Content-Type: text/plain\r\n\r\nline one\r\nline two\r\n",
		"Content-Type: text/plain\r\n\r\nmixed\nends\r\nhere\n\r\n",
	} {
		whole := []byte(ent)
		want := CoverBucket(len(rawmime.Canonical(whole)) + padMin)
		// The first piece is the header (mailmsg.Parse reads it); the
		// body may be cut anywhere.
		head := strings.Index(ent, "\n\n")
		if i := strings.Index(ent, "\r\n\r\n"); i >= 0 && (head < 0 || i < head) {
			head = i + 2
		}
		for cut := head + 1; cut <= len(whole); cut++ {
			for _, parts := range [][][]byte{
				{whole[:cut], whole[cut:]},
				{whole[:cut], nil, whole[cut:]},
			} {
				got := padPartsToBucket(parts)
				n := len(rawmime.Canonical(bytes.Join(got, nil)))
				if n != want {
					t.Errorf("%q cut at %d (%d pieces): padded to %d, want %d", ent, cut, len(parts), n, want)
				}
			}
		}
	}
}
