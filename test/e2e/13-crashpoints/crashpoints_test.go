// Package crashpoints kills the real runner processes at each crash point of
// the hand-over protocol and checks that a restart loses nothing and sends
// nothing twice:
//
//	deliver x3 -> queue/in -> [incoming] -> [rules] -> [pipeline] -> [archive]
//	                                                             \-> [outgoing] -> SMTP sink
//	                                                                   |  ^ 450 for one member
//	                                                                   v  |
//	                                                                  [retry]
//
// The cloister binary is built with -tags faultinject, so that a runner
// started with CLOISTER_CRASH_AT=point:n SIGKILLs itself the nth time it
// reaches point. For each stage and point the stage's runner is killed
// there, the stages after it drain what it published (so that a claim redone
// upstream would meet a copy already consumed), the killed runner is
// restarted, and then everything drains. Every member must hold every post
// exactly once; the only repeat allowed is the SMTP transaction in flight at
// PointAccepted (the MTA said 250, the journal did not record it yet): one
// copy, to the one recipient of that transaction, and the test requires
// exactly that one so that the window is measured, not assumed.
package crashpoints

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"cloister/internal/sitetest"
	"cloister/internal/smtpsink"
	"cloister/queue"
	"cloister/runners"
	"cloister/test/e2e/harness"
)

// stages in pipeline order; each is a runner and its queue.
var stages = []string{"incoming", "rules", "pipeline", "archive", "outgoing", "retry"}

// protocol are the crash points of queue.Commit, in order (docs/design.md,
// "Exactly-once hand-overs"): outputs staged; ledger durable; outputs
// renamed into place (published); before the claim's unlink; claim removed.
var protocol = []string{queue.PointStaged, queue.PointCommitted, queue.PointPublished, queue.PointRemove, queue.PointFinished}

var members = []string{"ann@subs.test", "bob@subs.test", "cat@subs.test"}

const posts = 3

var subjectRE = regexp.MustCompile(`crash post (\d+) end`)

func TestKillRunnerProcessAtEachCrashPoint(t *testing.T) {
	dir := harness.WorkDir(t)
	bins := harness.BuildTags(t, filepath.Join(dir, "bin"), "faultinject")
	for _, stage := range stages {
		points := protocol
		switch stage {
		case "archive": // it hands nothing over: Commit is Finish
			points = []string{queue.PointRemove}
		case "outgoing":
			points = append(append([]string{}, protocol...), runners.PointAccepted, runners.PointJournaled)
		}
		for _, point := range points {
			t.Run(stage+"/"+point, func(t *testing.T) {
				// A deferral gives outgoing an output (to retry) and retry
				// its entries; at the fan-out's own points every
				// transaction is accepted, so that the one killed is.
				deferOne := stage == "retry" || stage == "outgoing" && contains(protocol, point)
				c := newCase(t, bins, filepath.Join(dir, stage+"-"+point), deferOne)
				c.upstreamOf(stage)
				// The second entry (or transaction) is the one killed: the
				// first went through, the third has not started.
				if out, err := c.runner(queue.CrashAtEnv+"="+point+":2", stage); err == nil || !strings.Contains(err.Error(), "killed") {
					t.Fatalf("runner %s was not killed at %s:2: %v\n%s", stage, point, err, out)
				}
				c.downstreamOf(stage)
				c.mustRun("runner", stage, "--once") // the killed runner restarts
				// A deferral it published on recovery waits for its next try
				// like any other; make it due, then drain everything.
				c.makeRetriesDue(false)
				c.mustRun("runners", "--once")
				wantRepeats := 0
				if point == runners.PointAccepted {
					wantRepeats = 1
				}
				c.check(wantRepeats)
			})
		}
	}
}

// crashCase is one site: state directory, sink and binaries.
type crashCase struct {
	t        *testing.T
	bins     harness.Binaries
	state    string
	env      []string
	sink     *smtpsink.Sink
	defer450 bool // cat@subs.test is deferred (450) until the retry stage runs
}

func newCase(t *testing.T, bins harness.Binaries, dir string, defer450 bool) *crashCase {
	sink := sitetest.StartSink(t, filepath.Join(dir, "mail"))
	c := &crashCase{t: t, bins: bins, state: filepath.Join(dir, "state"), sink: sink, defer450: defer450}
	c.env = []string{"CLOISTER_CONFIG=" + filepath.Join(c.state, "cloister.toml")}
	harness.Run(t, nil, bins.Cloister, "init", "--state-dir", c.state, "--domain", "lists.test", "--smtp", sink.Addr)
	c.mustRun("list", "create", "team", "--owner", members[0])
	for _, m := range members[1:] {
		c.mustRun("member", "add", "team", m)
	}
	for i := 0; i < posts; i++ {
		msg := fmt.Sprintf("From: bob@subs.test\nTo: team@lists.test\nMessage-ID: <crash%d@subs.test>\nSubject: crash post %d end\n\nbody %d\n", i, i, i)
		if _, errOut, err := harness.RunErr(c.env, []byte(msg), bins.Deliver, "-f", "bob@subs.test", "team@lists.test"); err != nil {
			t.Fatalf("deliver: %v %s", err, errOut)
		}
	}
	if defer450 {
		sink.Refuse["cat@subs.test"] = 450
	}
	return c
}

func (c *crashCase) runner(envVar, name string) (string, error) {
	cmd := exec.Command(c.bins.Cloister, "runner", name, "--once")
	cmd.Env = append(append(os.Environ(), c.env...), envVar)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func (c *crashCase) mustRun(args ...string) {
	c.t.Helper()
	harness.Run(c.t, c.env, c.bins.Cloister, args...)
}

// upstreamOf runs every stage before stage once, in order. Before the retry
// stage, the deferrals outgoing made are made due and the sink stops
// deferring.
func (c *crashCase) upstreamOf(stage string) {
	c.t.Helper()
	for _, s := range stages {
		if s == stage {
			break
		}
		c.mustRun("runner", s, "--once")
	}
	if stage == "retry" {
		c.release()
	}
}

// release stops deferring and makes the deferrals due.
func (c *crashCase) release() {
	c.t.Helper()
	if c.defer450 {
		delete(c.sink.Refuse, "cat@subs.test")
		c.makeRetriesDue(true)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// downstreamOf runs every stage after stage once, in order, so that what a
// killed runner published is consumed before it restarts.
func (c *crashCase) downstreamOf(stage string) {
	c.t.Helper()
	after := false
	for _, s := range stages {
		if after {
			if s == "retry" {
				c.release()
			}
			c.mustRun("runner", s, "--once")
		}
		after = after || s == stage
	}
	if stage == "outgoing" || stage == "retry" {
		c.mustRun("runner", "outgoing", "--once") // what retry handed back
	}
}

// makeRetriesDue sets every retry entry's next try in the past (the entry
// format is one line of JSON metadata, then the message); some must be
// there when required.
func (c *crashCase) makeRetriesDue(required bool) {
	c.t.Helper()
	names, _ := filepath.Glob(filepath.Join(c.state, "queue", queue.Retry, "*.msg"))
	if required && len(names) == 0 {
		c.t.Fatalf("retry holds no deferral")
	}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			c.t.Fatal(err)
		}
		head, body, _ := bytes.Cut(b, []byte("\n"))
		var m map[string]any
		if err := json.Unmarshal(head, &m); err != nil {
			c.t.Fatalf("%s: %v", n, err)
		}
		m["next_try"] = "2000-01-01T00:00:00Z"
		head, _ = json.Marshal(m)
		if err := os.WriteFile(n, append(append(head, '\n'), body...), 0o600); err != nil {
			c.t.Fatal(err)
		}
	}
}

// check counts what each member received: every post exactly once, except
// wantRepeats copies repeated in all (the transaction in flight); nothing in
// bad, and no file (entry, claim, ledger, staged output, journal, temp) left
// in any queue.
func (c *crashCase) check(wantRepeats int) {
	c.t.Helper()
	lost, repeats := 0, 0
	for _, m := range members {
		box, err := c.sink.Mailbox(m)
		if err != nil {
			c.t.Fatal(err)
		}
		got := map[string]int{}
		for _, msg := range box {
			if sm := subjectRE.FindSubmatch(msg); sm != nil {
				got[string(sm[1])]++
			}
		}
		for i := 0; i < posts; i++ {
			switch n := got[fmt.Sprint(i)]; {
			case n == 0:
				lost++
				c.t.Errorf("%s never got post %d", m, i)
			case n > 1:
				repeats += n - 1
			}
		}
	}
	if lost != 0 || repeats != wantRepeats {
		c.t.Errorf("lost %d, repeated %d copies; want 0 lost, %d repeated", lost, repeats, wantRepeats)
	}
	var left []string
	filepath.WalkDir(filepath.Join(c.state, "queue"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(c.state, p)
			left = append(left, rel)
		}
		return nil
	})
	if len(left) != 0 {
		c.t.Errorf("files left in the queues: %v", left)
	}
}

// TestRequeueKilledAtEachPoint: an operator's `cloister queue requeue bad
// ENTRY` is killed at each point of its hand-over and the operator requeues
// again. The bad queue has no runner to recover it: killed before the
// commit point, the requeue did not happen and the second one must work;
// killed after it, the entry was requeued and is gone from bad. Either way
// every member gets every post once and bad is left empty.
func TestRequeueKilledAtEachPoint(t *testing.T) {
	dir := harness.WorkDir(t)
	bins := harness.BuildTags(t, filepath.Join(dir, "bin"), "faultinject")
	for _, point := range []string{queue.PointCreate, queue.PointStaged, queue.PointCommitted, queue.PointPublished, queue.PointRemove, queue.PointFinished} {
		t.Run(point, func(t *testing.T) {
			c := newCase(t, bins, filepath.Join(dir, "requeue-"+point), false)
			names, _ := filepath.Glob(filepath.Join(c.state, "queue", queue.In, "*.msg"))
			if len(names) != posts {
				t.Fatalf("in holds %v", names)
			}
			entry := strings.TrimSuffix(filepath.Base(names[0]), ".msg")
			c.mustRun("queue", "requeue", queue.In, entry, "--to", queue.Bad) // as if it had failed
			inBad, _ := filepath.Glob(filepath.Join(c.state, "queue", queue.Bad, "*.msg"))
			if len(inBad) != 1 {
				t.Fatalf("bad holds %v", inBad)
			}
			entry = strings.TrimSuffix(filepath.Base(inBad[0]), ".msg")
			cmd := exec.Command(c.bins.Cloister, "queue", "requeue", queue.Bad, entry, "--to", queue.In)
			cmd.Env = append(append(os.Environ(), c.env...), queue.CrashAtEnv+"="+point+":1")
			if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(err.Error(), "killed") {
				t.Fatalf("requeue was not killed at %s:1: %v\n%s", point, err, out)
			}
			c.mustRun("runners", "--once")
			committed := point != queue.PointCreate && point != queue.PointStaged
			out, errOut, err := harness.RunErr(c.env, nil, c.bins.Cloister, "queue", "requeue", queue.Bad, entry, "--to", queue.In)
			switch {
			case !committed && err != nil:
				t.Fatalf("requeue again after a kill before the commit point: %v\n%s%s", err, out, errOut)
			case committed && (err == nil || !strings.Contains(errOut, "gone")):
				t.Fatalf("requeue again after a kill past the commit point: %v, want the entry gone from bad\n%s%s", err, out, errOut)
			}
			c.mustRun("runners", "--once")
			c.check(0)
		})
	}
}

// postCopyRE matches a distributed copy's Subject (prefixed by the
// pipeline), not a held post attached to a moderator's notice.
var postCopyRE = regexp.MustCompile(`(?m)^Subject: \[team\] crash post (\d+) end\r?$`)

// TestHeldDecisionKilledAtEachPoint: the operator's `cloister held approve`,
// `reject` or `discard` of a held post is killed at a point of its
// hand-over, and the operator decides again. Killed before the commit point,
// nothing was decided and the second decision is made; killed after it, the
// first decision stands and the second is told so. The other held posts are
// approved: every approved post reaches every member once, the decided one
// once or never, and the sender gets at most one rejection.
func TestHeldDecisionKilledAtEachPoint(t *testing.T) {
	dir := harness.WorkDir(t)
	bins := harness.BuildTags(t, filepath.Join(dir, "bin"), "faultinject")
	tests := []struct{ verb, point string }{
		{"approve", queue.PointCreate}, {"approve", queue.PointStaged}, {"approve", queue.PointCommitted},
		{"approve", queue.PointPublished}, {"approve", queue.PointRemove}, {"approve", queue.PointFinished},
		{"reject", queue.PointCreate}, {"reject", queue.PointStaged}, {"reject", queue.PointPublished},
		{"reject", queue.PointFinished}, {"discard", queue.PointRemove},
	}
	for _, tt := range tests {
		t.Run(tt.verb+"/"+tt.point, func(t *testing.T) {
			c := newCase(t, bins, filepath.Join(dir, "held-"+tt.verb+"-"+tt.point), false)
			c.mustRun("list", "set", "team", "send", "send.editorkey")
			c.mustRun("runners", "--once")
			ids := c.heldIDs()
			if len(ids) != posts {
				t.Fatalf("held: %v", ids)
			}
			cmd := exec.Command(c.bins.Cloister, "held", tt.verb, ids[0])
			cmd.Env = append(append(os.Environ(), c.env...), queue.CrashAtEnv+"="+tt.point+":1")
			if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(err.Error(), "killed") {
				t.Fatalf("held %s was not killed at %s:1: %v\n%s", tt.verb, tt.point, err, out)
			}
			committed := tt.point != queue.PointCreate && tt.point != queue.PointStaged && tt.verb != "discard"
			out, errOut, err := harness.RunErr(c.env, nil, c.bins.Cloister, "held", tt.verb, ids[0])
			switch {
			case !committed && err != nil:
				t.Fatalf("held %s again after a kill before the commit point: %v\n%s%s", tt.verb, err, out, errOut)
			case committed && (err == nil || !strings.Contains(errOut, "decided already")):
				t.Fatalf("held %s again after a kill past the commit point: %v, want decided already\n%s%s", tt.verb, err, out, errOut)
			}
			c.mustRun(append([]string{"held", "approve"}, ids[1:]...)...)
			c.mustRun("runners", "--once")
			if left := c.heldIDs(); len(left) != 0 {
				t.Errorf("held records left: %v", left)
			}
			wantCopies := 1
			if tt.verb != "approve" {
				wantCopies = 0
			}
			for _, m := range members {
				box, _ := c.sink.Mailbox(m)
				got := map[string]int{}
				for _, msg := range box {
					if sm := postCopyRE.FindSubmatch(msg); sm != nil {
						got[string(sm[1])]++
					}
				}
				// ids are in held order, not post order: count by total.
				total := 0
				for _, n := range got {
					if n != 1 {
						t.Errorf("%s got a post %d times: %v", m, n, got)
					}
					total += n
				}
				if total != posts-1+wantCopies {
					t.Errorf("%s got %d posts, want %d", m, total, posts-1+wantCopies)
				}
			}
			rejections := 0
			box, _ := c.sink.Mailbox("bob@subs.test")
			for _, msg := range box {
				if bytes.Contains(msg, []byte("was rejected")) {
					rejections++
				}
			}
			if want := map[bool]int{true: 1, false: 0}[tt.verb == "reject"]; rejections != want {
				t.Errorf("the sender got %d rejection notices, want %d", rejections, want)
			}
			var left []string
			filepath.WalkDir(filepath.Join(c.state, "queue"), func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					left = append(left, p)
				}
				return nil
			})
			if len(left) != 0 {
				t.Errorf("files left in the queues: %v", left)
			}
		})
	}
}

// heldIDs lists the held posts' IDs (`cloister held ls`).
func (c *crashCase) heldIDs() []string {
	c.t.Helper()
	out := harness.Run(c.t, c.env, c.bins.Cloister, "held", "ls")
	var ids []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		if f := strings.Fields(l); len(f) > 0 {
			ids = append(ids, f[0])
		}
	}
	return ids
}

var replyRE = regexp.MustCompile(`crash request (\d+) end`)

// TestKillCommandRunnerAtEachCrashPoint: the command runner, which answers
// mail to LIST-request, is killed at each crash point of its hand-over
// (the reply to queue/out), the outgoing runner sends what it published,
// and the command runner restarts: the sender gets one reply per request.
func TestKillCommandRunnerAtEachCrashPoint(t *testing.T) {
	dir := harness.WorkDir(t)
	bins := harness.BuildTags(t, filepath.Join(dir, "bin"), "faultinject")
	for _, point := range protocol {
		t.Run(point, func(t *testing.T) {
			c := newCase(t, bins, filepath.Join(dir, "command-"+point), false)
			for i := 0; i < posts; i++ {
				msg := fmt.Sprintf("From: bob@subs.test\nTo: team-request@lists.test\nMessage-ID: <req%d@subs.test>\nSubject: crash request %d end\n\nhelp\n", i, i)
				if _, errOut, err := harness.RunErr(c.env, []byte(msg), bins.Deliver, "-f", "bob@subs.test", "team-request@lists.test"); err != nil {
					t.Fatalf("deliver: %v %s", err, errOut)
				}
			}
			c.mustRun("runner", "incoming", "--once")
			if out, err := c.runner(queue.CrashAtEnv+"="+point+":2", "command"); err == nil || !strings.Contains(err.Error(), "killed") {
				t.Fatalf("runner command was not killed at %s:2: %v\n%s", point, err, out)
			}
			c.mustRun("runner", "outgoing", "--once")
			c.mustRun("runner", "command", "--once")
			c.mustRun("runners", "--once")
			box, err := c.sink.Mailbox("bob@subs.test")
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, msg := range box {
				if sm := replyRE.FindSubmatch(msg); sm != nil {
					got[string(sm[1])]++
				}
			}
			for i := 0; i < posts; i++ {
				if n := got[fmt.Sprint(i)]; n != 1 {
					t.Errorf("bob got %d replies to request %d", n, i)
				}
			}
			c.check(0) // the three posts, delivered by the drain
		})
	}
}
