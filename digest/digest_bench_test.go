package digest

import (
	"testing"
	"time"

	"cloister/lists"
)

// BenchmarkBuildDigest20: a digest of 20 posts of about 1.5 KB, in both forms.
func BenchmarkBuildDigest20(b *testing.B) {
	l, err := lists.NewList("team@lists.test", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	var posts [][]byte
	for i := 1; i <= 20; i++ {
		posts = append(posts, []byte(testPost(i)))
	}
	for _, format := range []string{"mime", "plain"} {
		b.Run(format, func(b *testing.B) {
			l.Settings.DigestFormat = format
			for b.Loop() {
				Build(l, State{Volume: 1, Issue: 1}, posts, time.Now())
			}
		})
	}
}
