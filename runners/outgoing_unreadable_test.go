package runners

import (
	"errors"
	"fmt"
	"testing"

	"cloister/distribute"
)

// TestPermanentPost: the distributor's unreadable post becomes a permanent
// error with the distributor's words (the entry goes to bad); every other
// error of the distributor is left as it is.
func TestPermanentPost(t *testing.T) {
	other := errors.New("sign post: no key")
	tests := []struct {
		name      string
		err       error
		permanent bool
		want      string
	}{
		{"unreadable", fmt.Errorf("%w: message has no header section", distribute.ErrUnreadablePost), true, "unreadable post: message has no header section"},
		{"other", other, false, other.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := permanentPost(tt.err)
			var p *PermanentError
			if errors.As(got, &p) != tt.permanent || got.Error() != tt.want {
				t.Fatalf("permanentPost(%v) = %#v, want permanent %v, %q", tt.err, got, tt.permanent, tt.want)
			}
		})
	}
	if permanentPost(nil) != nil {
		t.Fatal("permanentPost(nil) is not nil")
	}
}
