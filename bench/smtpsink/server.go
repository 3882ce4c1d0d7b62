package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// counts is what the sink has taken since it started.
type counts struct {
	sessions, messages, recipients, bytes atomic.Int64
	// bad counts the commands refused (out of order, malformed).
	bad atomic.Int64

	mu     sync.Mutex     // guards byRcpt and the stamp lines
	byRcpt map[string]int // copies taken per recipient
	stamps bool

	// saveTo, when set, is the file the first message sent with DATA is
	// written to (see saveMessage); saved says it is taken.
	saveTo string
	saved  atomic.Bool
}

func newCounts(stamps bool) *counts { return &counts{byRcpt: map[string]int{}, stamps: stamps} }

// distinct returns how many recipients got at least one copy, and how many
// got more than one.
func (c *counts) distinct() (n, dup int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range c.byRcpt {
		n++
		if k > 1 {
			dup++
		}
	}
	return n, dup
}

// line is the one line of counts printed at the end.
func (c *counts) line() string {
	n, dup := c.distinct()
	return fmt.Sprintf("smtpsink: sessions %d messages %d recipients %d distinct %d duplicated %d bytes %d bad %d",
		c.sessions.Load(), c.messages.Load(), c.recipients.Load(), n, dup, c.bytes.Load(), c.bad.Load())
}

// taken records one message accepted for rcpts, of size bytes on the wire.
func (c *counts) taken(rcpts []string, size int64) {
	c.messages.Add(1)
	c.recipients.Add(int64(len(rcpts)))
	c.bytes.Add(size)
	c.mu.Lock()
	for _, r := range rcpts {
		c.byRcpt[r]++
	}
	if c.stamps {
		fmt.Printf("stamp %d %d\n", time.Now().UnixNano(), len(rcpts))
	}
	c.mu.Unlock()
}

// bufSize is the size of a session's read buffer: a message arrives in a
// few reads of this size, scanned in bulk.
const bufSize = 256 << 10

// maxLine bounds a command line (RFC 5321 4.5.3.1.4 says 512 with its CRLF;
// a little slack for extensions' parameters).
const maxLine = 4096

// session is one SMTP connection: a minimal server state machine (EHLO or
// HELO, MAIL, RCPT, DATA, BDAT, RSET, NOOP, QUIT) that reads the client's
// bytes into one large buffer and answers from a buffered writer flushed
// only when every command received so far is answered (so pipelined
// commands get their replies in one write, RFC 2920).
type session struct {
	c    *counts
	conn net.Conn

	buf  []byte
	r, w int // buf[r:w] is read and not yet consumed
	out  bytes.Buffer

	mail  bool     // MAIL given in this transaction
	rcpts []string // RCPTs of this transaction
	chunk int64    // bytes of the BDAT chunks so far in this transaction
}

func serve(c *counts, conn net.Conn) {
	c.sessions.Add(1)
	s := &session{c: c, conn: conn, buf: make([]byte, bufSize)}
	defer conn.Close()
	s.reply("220 sink.test ESMTP bench sink")
	for {
		line, err := s.readLine()
		if err != nil {
			return // the client went (smtp-source drops its connections without QUIT)
		}
		if quit := s.command(line); quit {
			s.flush()
			return
		}
	}
}

// command answers one command line (without its CRLF); it reports QUIT.
func (s *session) command(line []byte) bool {
	verb, arg, _ := strings.Cut(string(line), " ")
	switch strings.ToUpper(verb) {
	case "EHLO":
		s.reset()
		s.reply("250-sink.test\r\n250-PIPELINING\r\n250-CHUNKING\r\n250-8BITMIME\r\n250 SIZE 1073741824")
	case "HELO":
		s.reset()
		s.reply("250 sink.test")
	case "MAIL":
		if s.mail {
			s.refuse("503 5.5.1 MAIL already given")
			break
		}
		if !hasPrefixFold(arg, "FROM:") {
			s.refuse("501 5.5.4 MAIL FROM:<address> expected")
			break
		}
		s.mail = true
		s.reply("250 2.1.0 ok")
	case "RCPT":
		if !s.mail {
			s.refuse("503 5.5.1 MAIL first")
			break
		}
		addr, ok := address(arg, "TO:")
		if !ok {
			s.refuse("501 5.5.4 RCPT TO:<address> expected")
			break
		}
		s.rcpts = append(s.rcpts, addr)
		s.reply("250 2.1.5 ok")
	case "DATA":
		if len(s.rcpts) == 0 || s.chunk > 0 {
			s.refuse("503 5.5.1 no valid recipients, or BDAT under way")
			break
		}
		s.reply("354 end with <CRLF>.<CRLF>")
		var keep *bytes.Buffer
		if s.c.saveTo != "" && s.c.saved.CompareAndSwap(false, true) {
			keep = new(bytes.Buffer)
		}
		n, err := s.discardData(keep)
		if err != nil {
			return true
		}
		if keep != nil {
			if err := saveMessage(s.c.saveTo, keep.Bytes()[:n]); err != nil {
				fmt.Fprintf(os.Stderr, "smtpsink: %v\n", err)
			}
		}
		s.c.taken(s.rcpts, n)
		s.reset()
		s.reply("250 2.0.0 taken")
	case "BDAT":
		return s.bdat(arg)
	case "RSET":
		s.reset()
		s.reply("250 2.0.0 ok")
	case "NOOP":
		s.reply("250 2.0.0 ok")
	case "QUIT":
		s.reply("221 2.0.0 bye")
		return true
	default:
		s.refuse("500 5.5.2 unknown command")
	}
	return false
}

// bdat takes one BDAT chunk (RFC 3030): its bytes are read whatever the
// state, as the RFC asks, then judged. A message ends with its LAST chunk,
// whole: a session that ends before is not counted.
func (s *session) bdat(arg string) bool {
	f := strings.Fields(arg)
	if len(f) == 0 || len(f) > 2 || len(f) == 2 && !strings.EqualFold(f[1], "LAST") {
		s.refuse("501 5.5.4 BDAT size [LAST] expected")
		return true // the chunk's size is unknown: the stream cannot be followed
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || n < 0 {
		s.refuse("501 5.5.4 bad BDAT size")
		return true
	}
	last := len(f) == 2
	if err := s.discardN(n); err != nil {
		return true
	}
	switch {
	case len(s.rcpts) == 0:
		s.refuse("503 5.5.1 no valid recipients")
		s.reset()
	case !last:
		s.reply("250 2.0.0 chunk taken")
	default:
		s.c.taken(s.rcpts, s.chunk)
		s.reset()
		s.reply("250 2.0.0 taken")
	}
	return false
}

// reset ends the transaction.
func (s *session) reset() {
	s.mail, s.rcpts, s.chunk = false, s.rcpts[:0], 0
}

func (s *session) reply(text string) {
	s.out.WriteString(text)
	s.out.WriteString("\r\n")
}

// refuse answers with an error and counts it.
func (s *session) refuse(text string) {
	s.c.bad.Add(1)
	s.reply(text)
}

// flush writes the replies not yet written.
func (s *session) flush() error {
	if s.out.Len() == 0 {
		return nil
	}
	_, err := s.conn.Write(s.out.Bytes())
	s.out.Reset()
	return err
}

// fill reads more of the client's bytes into buf, after answering every
// command it has read so far (the client may wait for those replies).
func (s *session) fill() error {
	if err := s.flush(); err != nil {
		return err
	}
	if s.r == s.w {
		s.r, s.w = 0, 0
	} else if s.w == len(s.buf) {
		s.w = copy(s.buf, s.buf[s.r:s.w])
		s.r = 0
	}
	n, err := s.conn.Read(s.buf[s.w:])
	s.w += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// readLine returns the next command line without its line end; the slice
// is valid until the next read.
func (s *session) readLine() ([]byte, error) {
	for {
		if i := bytes.IndexByte(s.buf[s.r:s.w], '\n'); i >= 0 {
			line := s.buf[s.r : s.r+i]
			s.r += i + 1
			return bytes.TrimSuffix(line, []byte("\r")), nil
		}
		if s.w-s.r >= maxLine {
			return nil, errors.New("command line too long")
		}
		if err := s.fill(); err != nil {
			return nil, err
		}
	}
}

// discardN consumes n bytes of a BDAT chunk, keeping their count.
func (s *session) discardN(n int64) error {
	for n > 0 {
		if s.r == s.w {
			if err := s.fill(); err != nil {
				return err
			}
		}
		k := int(min(n, int64(s.w-s.r)))
		s.r += k
		s.chunk += int64(k)
		n -= int64(k)
	}
	return nil
}

// terminator ends a message sent with DATA: the CRLF that ends its last
// line, then a line holding one dot (RFC 5321 4.1.1.4).
var terminator = []byte("\r\n.\r\n")

// discardData consumes a message sent with DATA up to and with its
// terminator and returns its size on the wire (with its last line's CRLF,
// without the dot line). The stream is scanned in bulk for the terminator
// (bytes.Index); only a terminator split across two reads is followed byte
// by byte, by the state m: how much of the terminator the bytes so far end
// with. The message starts at a line's start, as if after a CRLF (m = 2),
// so that an empty message (a lone dot line) ends at once. With keep not
// nil, the bytes consumed are appended to it too (its first size bytes are
// then the message).
func (s *session) discardData(keep *bytes.Buffer) (int64, error) {
	m := 2
	var size int64
	for {
		if s.r == s.w {
			if err := s.fill(); err != nil {
				return 0, err
			}
		}
		b := s.buf[s.r:s.w]
		i := 0
		for m > 0 && i < len(b) { // a terminator begun before this span
			m = step(m, b[i])
			i++
			if m == len(terminator) {
				keepBytes(keep, b[:i])
				s.r += i
				return size + int64(i) - 3, nil
			}
		}
		if m == 0 {
			if k := bytes.Index(b[i:], terminator); k >= 0 {
				end := i + k + len(terminator)
				keepBytes(keep, b[:end])
				s.r += end
				return size + int64(end) - 3, nil
			}
			// What the span's end holds of a terminator: the last four
			// bytes decide it, the terminator not being in the span.
			j := max(i, len(b)-(len(terminator)-1))
			for ; j < len(b); j++ {
				m = step(m, b[j])
			}
		}
		keepBytes(keep, b)
		size += int64(len(b))
		s.r = s.w
	}
}

// keepBytes appends b to keep, when there is one (discardData).
func keepBytes(keep *bytes.Buffer, b []byte) {
	if keep != nil {
		keep.Write(b)
	}
}

// saveMessage writes a message as it came after DATA (CRLF line ends, dot
// stuffed, without the terminating dot line) to path in the form
// smtp-source -F sends: LF line ends, not stuffed (smtp-source stuffs and
// ends each line with CRLF itself).
func saveMessage(path string, wire []byte) error {
	text := bytes.ReplaceAll(wire, []byte("\r\n"), []byte("\n"))
	text = bytes.ReplaceAll(text, []byte("\n.."), []byte("\n."))
	if bytes.HasPrefix(text, []byte("..")) {
		text = text[1:]
	}
	if err := os.WriteFile(path, text, 0o644); err != nil {
		return fmt.Errorf("save the first message: %w", err)
	}
	return nil
}

// step is the matcher's transition for terminator on byte c from state m
// (m bytes of terminator matched).
func step(m int, c byte) int {
	if c == terminator[m] {
		return m + 1
	}
	if c == '\r' { // "\r\n.\r" then not '\n', or any state then CR: a CR starts a new match
		return 1
	}
	return 0
}

// hasPrefixFold says whether s starts with prefix, ignoring case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// address returns the address of "TO:<addr> params" (prefix "TO:").
func address(arg, prefix string) (string, bool) {
	if !hasPrefixFold(arg, prefix) {
		return "", false
	}
	rest := strings.TrimSpace(arg[len(prefix):])
	if !strings.HasPrefix(rest, "<") {
		return "", false
	}
	end := strings.IndexByte(rest, '>')
	if end < 0 {
		return "", false
	}
	return rest[1:end], true
}
