package distribute

import (
	"errors"
	"testing"
	"time"

	"cloister/internal/site"
	"cloister/lists"
	"cloister/queue"
)

// TestNewUnreadablePost: a post whose header cannot be parsed is
// ErrUnreadablePost (the outgoing runner makes it permanent), with the
// parser's reason; a readable one is not.
func TestNewUnreadablePost(t *testing.T) {
	tests := []struct {
		name, post string
		bad        bool
	}{
		{"no header", "", true},
		{"field without a name", ": x\n\nbody\n", true},
		{"mbox From_ line", "From bob@subs.test Wed Dec  2 06:00:00 2026\nSubject: x\n\nbody\n", true},
		{"readable", "From: bob@subs.test\nSubject: x\n\nbody\n", false},
	}
	list := &lists.List{Address: "team@lists.test"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(&site.Site{}, list, &queue.Meta{Kind: "post"}, []byte(tt.post), nil, time.Now(), true)
			if got := errors.Is(err, ErrUnreadablePost); got != tt.bad {
				t.Fatalf("New: %v, want unreadable %v", err, tt.bad)
			}
			if tt.bad && err.Error() == ErrUnreadablePost.Error() {
				t.Fatalf("the error does not say why: %v", err)
			}
		})
	}
}
