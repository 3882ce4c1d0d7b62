package web

// The browser tests drive Debian's chromium (headless, through chromedp)
// against `cloister web` started as a process on a real site:
//
//	chromium --HTTPS--> cloister web (process) --service--> lists.db, keyring.db
//	                         | login and workflow mails
//	                         v
//	                    queue/out --runners.Drain (this process)--> SMTP sink --> the test reads the mail
//
// A failing test leaves a screenshot of the page in its temp dir and logs
// its path.

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"cloister/internal/sitetest"
	"cloister/internal/testdirs"

	"github.com/chromedp/chromedp"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// cloisterBin builds cmd/cloister once per test process.
func cloisterBin(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cloister-web-bin-")
		if err != nil {
			buildErr = err
			return
		}
		var bins sitetest.Binaries
		bins, buildErr = sitetest.Build(dir)
		builtBin = bins.Cloister
	})
	if buildErr != nil {
		t.Fatalf("build cloister: %v", buildErr)
	}
	return builtBin
}

var listening = regexp.MustCompile(`msg="web listening" addr=(\S+)`)

// startDaemon runs `cloister web` on the site and returns its base URL.
func (ws *webSite) startDaemon(t *testing.T, args ...string) string {
	t.Helper()
	bin := cloisterBin(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, append([]string{"--config", ws.config, "web", "--listen", "127.0.0.1:0"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	var logMu sync.Mutex
	var log strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			logMu.Lock()
			log.WriteString(line + "\n")
			logMu.Unlock()
			if m := listening.FindStringSubmatch(line); m != nil {
				addr <- m[1]
			}
		}
		close(addr)
	}()
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			logMu.Lock()
			t.Logf("cloister web log:\n%s", log.String())
			logMu.Unlock()
		}
	})
	select {
	case a, ok := <-addr:
		if !ok {
			cmd.Wait()
			t.Fatalf("cloister web exited before listening:\n%s", log.String())
		}
		return "https://" + a
	case <-time.After(60 * time.Second):
		t.Fatalf("cloister web did not start listening:\n%s", log.String())
	}
	return ""
}

// chrome is one headless chromium with a fresh profile.
type chrome struct {
	t   *testing.T
	ctx context.Context
}

// newChrome starts chromium; extra options (an environment, flags) add to
// the defaults.
func newChrome(t *testing.T, extra ...chromedp.ExecAllocatorOption) *chrome {
	t.Helper()
	testdirs.Slow(t, "needs chromium")
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is not installed: run test/setup.sh (make test does)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("ignore-certificate-errors", true), // the daemon's self-signed certificate
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(420, 900), // a phone's width
	}
	opts = append(opts, extra...)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	c := &chrome{t: t, ctx: ctx}
	t.Cleanup(func() {
		if t.Failed() {
			c.screenshot()
		}
	})
	return c
}

// run runs the actions; on error it fails the test (the cleanup takes the
// screenshot).
func (c *chrome) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, actions...); err != nil {
		c.t.Fatalf("%s: %v", what, err)
	}
}

// text returns the visible text of the page's main element.
func (c *chrome) text() string {
	c.t.Helper()
	return c.textOf("main")
}

// textOf returns the visible text of the element sel (CSS).
func (c *chrome) textOf(sel string) string {
	c.t.Helper()
	s, err := chromedp.Run(c.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		c.t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

// screenshot writes the page as a PNG into a kept directory and logs it.
func (c *chrome) screenshot() {
	ctx, cancel := context.WithTimeout(c.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
	if err != nil {
		c.t.Logf("no screenshot: %v", err)
		return
	}
	dir, err := os.MkdirTemp("", "cloister-web-shot-")
	if err != nil {
		return
	}
	p := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(c.t.Name())+".png")
	if err := os.WriteFile(p, png, 0o644); err == nil {
		c.t.Logf("screenshot of the failing page: %s", p)
	}
}

// loginByMail logs the browser in as addr with the code mailed to it.
func (c *chrome) loginByMail(ws *webSite, base, addr string) {
	c.t.Helper()
	c.run("ask for a login code",
		chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.CSS("#address"), addr),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`p[role="status"]`)),
	)
	if !strings.Contains(c.text(), "A login code is on its way to "+addr) {
		c.t.Fatalf("after asking for a code: %s", c.text())
	}
	link := ws.lastLink(c.t, addr)
	c.run("open the mailed link and log in",
		chromedp.Navigate(link),
		chromedp.Click(chromedp.CSS(`form[action="/login/token"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`.who`)),
	)
	if who := c.textOf(".who"); who != addr+" (md5)" {
		c.t.Fatalf("logged in as %q, want %s (md5)", who, addr)
	}
}

var linkLine = regexp.MustCompile(`(?m)^    (https://\S+/login/token\?code=[a-z2-7]+)\s*$`)

// lastLink delivers the mail and returns the login link of the last login
// mail to addr.
func (ws *webSite) lastLink(t *testing.T, addr string) string {
	t.Helper()
	return ws.lastMatch(t, addr, linkLine, "login link")
}

func TestBrowserLoginByEmailToken(t *testing.T) {
	testdirs.Slow(t, "needs chromium")
	ws := newWebSite(t, TLSFiles{})
	base := ws.startDaemon(t)
	c := newChrome(t)
	c.loginByMail(ws, base, "bob@subs.test")
	c.run("log out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.CSS(`a[href="/login"]`)))
	c.run("open /me logged out", chromedp.Navigate(base+"/me"), chromedp.WaitVisible(chromedp.CSS(`#address`)))
}
