package runners

import (
	"context"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"cloister/internal/config"
	"cloister/internal/testdirs"
	"cloister/lists"
	"cloister/queue"
)

// stallMTA is a loopback SMTP server whose reply to RCPT TO a stalled
// recipient does not come until release is closed (or ever, if it is not).
type stallMTA struct {
	addr    string
	stall   map[string]bool
	release chan struct{}
	once    sync.Once
	waiting atomic.Int32 // RCPT replies being held
	mu      sync.Mutex
	got     map[string]int // recipient -> messages received
	// refuseData refuses the end of DATA with 552 5.2.2 in a transaction
	// to one of these recipients.
	refuseData map[string]bool
	srv        *smtp.Server
}

func startStallMTA(t *testing.T, stalled ...string) *stallMTA {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &stallMTA{addr: ln.Addr().String(), stall: map[string]bool{}, release: make(chan struct{}), got: map[string]int{}}
	for _, r := range stalled {
		m.stall[r] = true
	}
	m.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &stallSession{mta: m}, nil }))
	m.srv.Domain = "stall.test"
	m.srv.AllowInsecureAuth = true
	go m.srv.Serve(ln)
	t.Cleanup(func() { m.answer(); m.srv.Close() })
	return m
}

// answer lets the held replies (and every later one) come.
func (m *stallMTA) answer() { m.once.Do(func() { close(m.release) }) }

func (m *stallMTA) count(rcpt string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.got[rcpt]
}

type stallSession struct {
	mta   *stallMTA
	rcpts []string
}

func (s *stallSession) AuthPlain(string, string) error { return nil }
func (s *stallSession) Mail(string, *smtp.MailOptions) error {
	s.rcpts = nil
	return nil
}
func (s *stallSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.mta.stall[to] {
		s.mta.waiting.Add(1)
		<-s.mta.release
		s.mta.waiting.Add(-1)
	}
	s.rcpts = append(s.rcpts, to)
	return nil
}
func (s *stallSession) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	for _, rc := range s.rcpts {
		if s.mta.refuseData[rc] {
			return &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 2, 2}, Message: "mailbox full"}
		}
	}
	s.mta.mu.Lock()
	for _, rc := range s.rcpts {
		s.mta.got[rc]++
	}
	s.mta.mu.Unlock()
	return nil
}
func (s *stallSession) Reset()        { s.rcpts = nil }
func (s *stallSession) Logout() error { return nil }

// twoLists gives the site a second list, ops@lists.test (member dan), and
// adds slow@subs.test to team; it queues a post to each list and runs the
// stages before outgoing.
func twoLists(t *testing.T, s *testSite) {
	t.Helper()
	err := s.Lists.Update(func(tx *lists.Tx) error {
		l, err := lists.NewList("ops@lists.test", time.Now())
		if err != nil {
			return err
		}
		if err := tx.CreateList(l); err != nil {
			return err
		}
		if err := tx.AddMember(l.Address, &lists.Member{Address: "dan@subs.test", Roles: []lists.Role{lists.RoleOwner, lists.RoleMember}}); err != nil {
			return err
		}
		return tx.AddMember("team@lists.test", &lists.Member{Address: "slow@subs.test"})
	})
	if err != nil {
		t.Fatal(err)
	}
	s.deliver(t, queue.SubPost, "bob@subs.test", post)
	m := &queue.Meta{List: "ops@lists.test", Subaddress: queue.SubPost, Sender: "dan@subs.test", Recipient: "ops@lists.test", Received: time.Now().UTC()}
	ops := strings.NewReplacer("team@", "ops@", "Bob <bob@", "Dan <dan@", "m1@", "m2@").Replace(post)
	if _, err := s.Queue(queue.In).Enqueue(m, strings.NewReader(ops), 0); err != nil {
		t.Fatal(err)
	}
	for _, r := range []Runner{Incoming{}, Rules{}, Pipeline{}, Archive{}} {
		l := &Loop{Site: s.Site, Runner: r, Slice: queue.All, Once: true}
		if err := l.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.count(t, queue.Out); n != 2 {
		t.Fatalf("out holds %d entries, want the two posts; bad %q", n, s.badReasons(t))
	}
}

// TestSlowMTAHoldsUpOnlyItsEntry: the MTA does not answer RCPT TO for one
// member of team; ops's post is delivered meanwhile by the same outgoing
// runner, and team's post goes out once the reply comes.
func TestSlowMTAHoldsUpOnlyItsEntry(t *testing.T) {
	s := newTestSite(t)
	mta := startStallMTA(t, "slow@subs.test")
	s.Config.SMTPAddr = mta.addr
	twoLists(t, s)
	stop, _ := startLoop(t, s, Outgoing{}, nil)
	eventually(t, "ops's post delivered while team's transaction waits", func() bool {
		return mta.count("dan@subs.test") == 1 && mta.waiting.Load() == 1
	})
	mta.answer()
	eventually(t, "team's post delivered", func() bool { return mta.count("slow@subs.test") == 1 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if r := s.badReasons(t); len(r) != 0 {
		t.Fatalf("bad = %q", r)
	}
	if n := s.count(t, queue.Retry); n != 0 {
		t.Fatalf("retry holds %d entries", n)
	}
}

// TestSilentMTAIsGivenUp: the MTA never answers RCPT TO for one member;
// the transaction is given up at the command deadline and the member is
// deferred to the retry queue (the others are delivered once), long before
// the systemd watchdog would kill the runner: the longest deadline the
// configuration allows is below the unit's WatchdogSec.
func TestSilentMTAIsGivenUp(t *testing.T) {
	testdirs.Slow(t, "drives the runners through many mails")
	s := newTestSite(t)
	mta := startStallMTA(t, "slow@subs.test")
	s.Config.SMTPAddr = mta.addr
	s.Config.SMTPTimeoutSeconds = 1
	twoLists(t, s)
	s.setSettings(t, "batch_size", "1")
	stop, _ := startLoop(t, s, Outgoing{}, nil)
	eventually(t, "the silent recipient deferred", func() bool { return s.count(t, queue.Retry) == 1 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	names, _ := s.Queue(queue.Retry).Pending(queue.All)
	e, err := s.Queue(queue.Retry).Peek(names[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Meta.Recipients) != 1 || e.Meta.Recipients[0] != "slow@subs.test" {
		t.Fatalf("retry holds %v, want the silent member only", e.Meta.Recipients)
	}
	if r := s.badReasons(t); len(r) != 0 {
		t.Fatalf("bad = %q", r)
	}
	for _, r := range []string{"ann@subs.test", "bob@subs.test", "cat@subs.test", "dan@subs.test"} {
		if n := mta.count(r); n != 1 {
			t.Errorf("%s got %d copies", r, n)
		}
	}

	unit, err := os.ReadFile("../etc/systemd/cloister-runner@.service")
	if err != nil {
		t.Fatal(err)
	}
	w := regexp.MustCompile(`(?m)^WatchdogSec=(\d+)s$`).FindSubmatch(unit)
	if w == nil {
		t.Fatal("no WatchdogSec in the runner unit")
	}
	wd, _ := strconv.Atoi(string(w[1]))
	if config.MaxSMTPTimeout >= wd || config.DefaultSMTPTimeout >= wd {
		t.Fatalf("SMTP deadlines (default %d s, max %d s) not below WatchdogSec=%ds", config.DefaultSMTPTimeout, config.MaxSMTPTimeout, wd)
	}
}

// TestSlowMTAFeedsWatchdog: while a transaction waits for the MTA's reply
// (bounded by the SMTP deadline), the fan-out keeps feeding the watchdog
// every tickEvery, and stops when the reply has come.
func TestSlowMTAFeedsWatchdog(t *testing.T) {
	defer func(old time.Duration) { tickEvery = old }(tickEvery)
	tickEvery = 5 * time.Millisecond
	s := newTestSite(t)
	mta := startStallMTA(t, "slow@subs.test")
	s.Config.SMTPAddr = mta.addr
	twoLists(t, s)
	var ticks atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l := &Loop{Site: s.Site, Runner: Outgoing{}, Slice: queue.All, Poll: time.Hour, Tick: func() { ticks.Add(1) }}
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	eventually(t, "team's transaction waiting on the MTA", func() bool {
		return mta.count("dan@subs.test") == 1 && mta.waiting.Load() == 1
	})
	before := ticks.Load()
	eventually(t, "the watchdog fed while the MTA is silent", func() bool { return ticks.Load() >= before+3 })
	if mta.waiting.Load() != 1 {
		t.Fatal("the MTA answered before the ticks were counted")
	}
	mta.answer()
	eventually(t, "team's post delivered", func() bool { return mta.count("slow@subs.test") == 1 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
