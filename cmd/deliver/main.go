// deliver lives for milliseconds: the runtime neither sizes GOMAXPROCS from
// the cgroup's CPU limit nor keeps re-reading it (the files that reads at
// start and the world stopped to apply an update cost more than its work).

//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0

// Command deliver is what the MTA pipes each message into. It writes the
// message durably into the incoming queue and exits with a sysexits code:
// 0 accepted, 65 unusable input (empty, over the size limit), 67 unknown list,
// 75 temporary failure (the MTA retries), 78 bad configuration. It does no
// crypto and opens no database: it reads only its config and lists.idx.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"cloister/internal/config"
	"cloister/internal/listaddr"
	"cloister/queue"
)

// Exit codes from sysexits.h.
const (
	exOK          = 0
	exDataErr     = 65
	exNoUser      = 67
	exTempFail    = 75
	exConfig      = 78
	exUsage       = 64
	mboxFromLimit = 4096
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stderr, os.Getenv))
}

// run is deliver without the process around it, for tests.
func run(args []string, stdin io.Reader, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("deliver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "path of cloister.toml")
	from := fs.String("f", "", "envelope sender (default $SENDER)")
	if err := fs.Parse(args); err != nil {
		return exUsage
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "deliver: "+format+"\n", a...)
		return code
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return fail(exConfig, "%v", err)
	}
	rcpt := fs.Arg(0)
	// A local(8) alias names the subaddress without the extension of the
	// address the mail came to (a confirmation token, a signed VERP tag);
	// Postfix passes that whole address in $ORIGINAL_RECIPIENT.
	if orig := getenv("ORIGINAL_RECIPIENT"); rcpt != "" && orig != "" && withoutExtension(orig) == withoutExtension(rcpt) {
		rcpt = orig
	}
	if rcpt == "" {
		rcpt = firstNonEmpty(getenv("ORIGINAL_RECIPIENT"), getenv("RECIPIENT"))
	}
	if rcpt == "" && getenv("LOCAL_PART") != "" && getenv("DOMAIN") != "" {
		rcpt = getenv("LOCAL_PART") + "@" + getenv("DOMAIN")
	}
	if rcpt == "" {
		return fail(exConfig, "no list address: give it as an argument or set $ORIGINAL_RECIPIENT/$RECIPIENT (Postfix) or $LOCAL_PART and $DOMAIN (Exim)")
	}
	idx, err := listaddr.ReadIndex(cfg.IndexPath())
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fail(exConfig, "%v (run cloister init and create a list)", err)
		}
		return fail(exTempFail, "%v", err)
	}
	list, sub, ext, ok := idx.Resolve(rcpt)
	if !ok {
		return fail(exNoUser, "no such list: %s", rcpt)
	}
	sender := *from
	if sender == "" {
		sender = getenv("SENDER")
	}
	in, err := queue.Open(cfg.QueueRoot(), queue.In)
	if err != nil {
		return fail(exTempFail, "%v", err)
	}
	body, err := stripMboxFrom(bufio.NewReaderSize(stdin, 64<<10))
	if err != nil {
		return fail(exTempFail, "read message: %v", err)
	}
	// Postfix's pipe(8) writes the null sender as MAILER-DAEMON.
	sender = strings.Trim(sender, "<>")
	if strings.EqualFold(sender, "MAILER-DAEMON") {
		sender = ""
	}
	meta := &queue.Meta{
		List:       list,
		Subaddress: sub,
		Extension:  ext,
		Sender:     sender,
		Recipient:  strings.ToLower(strings.Trim(rcpt, "<>")),
		Received:   time.Now().UTC(),
	}
	meta.AddStage("deliver", "")
	if _, err := in.Enqueue(meta, body, cfg.MaxMessageSize()); err != nil {
		switch {
		case errors.Is(err, queue.ErrTooLarge):
			return fail(exDataErr, "message refused: larger than %d KB", cfg.MaxMessageSizeKB)
		case errors.Is(err, queue.ErrEmpty):
			return fail(exDataErr, "message refused: empty input")
		default:
			return fail(exTempFail, "%v", err)
		}
	}
	return exOK
}

// stripMboxFrom drops the mbox "From " line that Postfix's local(8) alias
// pipes prepend; everything else is kept byte for byte.
func stripMboxFrom(r *bufio.Reader) (io.Reader, error) {
	head, err := r.Peek(5)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	if string(head) != "From " {
		return r, nil
	}
	for n := 0; n < mboxFromLimit; n++ {
		b, err := r.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return r, nil
			}
			return nil, err
		}
		if b == '\n' {
			return r, nil
		}
	}
	return nil, errors.New("mbox From line longer than 4096 bytes")
}

// withoutExtension returns an address lower-cased, without angle brackets
// and without the '+' extension of its local part.
func withoutExtension(addr string) string {
	a := strings.ToLower(strings.Trim(strings.TrimSpace(addr), "<>"))
	at := strings.LastIndexByte(a, '@')
	if at < 0 {
		return a
	}
	if plus := strings.IndexByte(a[:at], '+'); plus >= 0 {
		return a[:plus] + a[at:]
	}
	return a
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
