package queue

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestRecoverInPlace: a claim left by a dead decision comes back under its
// own name with its attempts as they were; a hand-over interrupted after its
// commit point is finished, not put back; the queue's files are exactly
// those expected afterwards.
func TestRecoverInPlace(t *testing.T) {
	tests := []struct {
		name      string
		crashAt   string // "" leaves the claim without a hand-over
		wantHeld  int    // entries left in the queue (under the claim's name)
		wantOut   int    // outputs published
		recovered int
	}{
		{name: "claim only", wantHeld: 1, recovered: 1},
		{name: "killed after the ledger", crashAt: PointCommitted, wantOut: 1, recovered: 1},
		{name: "killed after publishing", crashAt: PointPublished, wantOut: 1, recovered: 1},
		{name: "killed after removing the claim", crashAt: PointFinished, wantOut: 1, recovered: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			held, _ := Open(root, Held)
			out, _ := Open(root, Out)
			name, err := held.Enqueue(&Meta{List: "team@lists.test", Attempts: 2}, strings.NewReader("post\n"), 0)
			if err != nil {
				t.Fatal(err)
			}
			e, err := held.Claim(name)
			if err != nil {
				t.Fatal(err)
			}
			if tt.crashAt != "" {
				FaultHook = func(p string) error {
					if p == tt.crashAt {
						return errors.New("killed")
					}
					return nil
				}
				r, _ := e.BodyReader()
				err = held.Commit(e, []Output{{Queue: out, Meta: &Meta{ID: "notice-1", List: "team@lists.test"}, Body: r}})
				r.Close()
				FaultHook = nil
				if !errors.Is(err, ErrCommitted) {
					t.Fatalf("commit killed at %s: %v, want ErrCommitted", tt.crashAt, err)
				}
			}
			n, err := held.RecoverInPlace()
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.recovered {
				t.Errorf("recovered %d, want %d", n, tt.recovered)
			}
			var wantHeld []string
			if tt.wantHeld == 1 {
				wantHeld = []string{name + ".msg"}
			}
			if got := files(t, held); !reflect.DeepEqual(got, wantHeld) {
				t.Errorf("held queue holds %v, want %v", got, wantHeld)
			}
			if got := files(t, out); len(got) != tt.wantOut {
				t.Errorf("out holds %v, want %d entries", got, tt.wantOut)
			}
			if tt.wantHeld == 1 {
				p, err := held.Peek(name)
				if err != nil {
					t.Fatal(err)
				}
				if p.Meta.Attempts != 2 {
					t.Errorf("attempts = %d after the put-back, want 2 (not counted)", p.Meta.Attempts)
				}
			}
		})
	}
}
