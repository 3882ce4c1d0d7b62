// Package clamd is a client of the ClamAV daemon's INSTREAM command: it
// streams a message to clamd over its Unix or TCP socket and reads the
// verdict, bounded in time and size, so that a hung or garbled daemon gives
// a clear error rather than a hang.
package clamd

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
	"unicode"
)

// Defaults of a Client's zero fields.
const (
	// DefaultTimeout bounds one whole exchange with clamd (connect, stream,
	// verdict).
	DefaultTimeout = 30 * time.Second
	// DefaultMaxSize is the largest message streamed (10 MiB, below clamd's
	// own StreamMaxLength default of 25 MiB).
	DefaultMaxSize = 10 << 20
	// DefaultChunkSize is the size of the INSTREAM chunks sent.
	DefaultChunkSize = 64 << 10
	// maxReply bounds the verdict read from clamd.
	maxReply = 4096
)

// ErrTooLarge means the message was not scanned because it is larger than
// the client's MaxSize or than clamd's StreamMaxLength ("INSTREAM size limit
// exceeded").
var ErrTooLarge = errors.New("message too large to scan")

// ErrUnavailable is matched (errors.Is) by every error that means no verdict
// was had from clamd: it could not be reached, did not answer in time, or
// answered something that is not a verdict. The message is neither clean nor
// infected; the caller's policy for an unavailable scanner applies.
var ErrUnavailable = errors.New("virus scanner unavailable")

// Error is a failed exchange with clamd; it matches ErrUnavailable.
type Error struct {
	Op  string // dial, send, reply
	Err error
}

func (e *Error) Error() string        { return "clamd " + e.Op + ": " + e.Err.Error() }
func (e *Error) Unwrap() error        { return e.Err }
func (e *Error) Is(target error) bool { return target == ErrUnavailable }

// Result is clamd's verdict on a message.
type Result struct {
	// Infected reports that clamd found a signature.
	Infected bool
	// Signature is the name of the signature found (printable ASCII, at most
	// 200 characters); empty when clean.
	Signature string
}

// Client streams messages to one clamd.
type Client struct {
	// Network is "unix" or "tcp".
	Network string
	// Address is the socket path (unix) or host:port (tcp).
	Address string
	// Timeout bounds one whole exchange; 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxSize is the largest message streamed, in bytes; a larger one gives
	// ErrTooLarge without contacting clamd. 0 means DefaultMaxSize.
	MaxSize int64
	// ChunkSize is the size of the chunks sent; 0 means DefaultChunkSize.
	ChunkSize int
}

// ParseSocket reads a socket setting: an absolute path is a Unix socket,
// host:port a TCP one (unix:PATH and tcp:HOST:PORT are accepted too).
func ParseSocket(s string) (network, address string, err error) {
	switch {
	case strings.HasPrefix(s, "unix:"):
		network, address = "unix", strings.TrimPrefix(s, "unix:")
	case strings.HasPrefix(s, "tcp:"):
		network, address = "tcp", strings.TrimPrefix(s, "tcp:")
	case strings.HasPrefix(s, "/"):
		network, address = "unix", s
	default:
		network, address = "tcp", s
	}
	if network == "unix" {
		if !strings.HasPrefix(address, "/") {
			return "", "", fmt.Errorf("clamd socket %q: a Unix socket needs an absolute path", s)
		}
		return network, address, nil
	}
	if _, port, err := net.SplitHostPort(address); err != nil || port == "" {
		return "", "", fmt.Errorf("clamd socket %q: neither an absolute path nor host:port", s)
	}
	return network, address, nil
}

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

func (c *Client) maxSize() int64 {
	if c.MaxSize > 0 {
		return c.MaxSize
	}
	return DefaultMaxSize
}

func (c *Client) chunkSize() int {
	if c.ChunkSize > 0 {
		return c.ChunkSize
	}
	return DefaultChunkSize
}

// Scan streams msg to clamd with INSTREAM and returns its verdict. The
// message only travels over the socket: nothing is written to disk. Errors:
// ErrTooLarge (not scanned), or an *Error matching ErrUnavailable (no
// verdict: unreachable, time-out, garbled reply).
func (c *Client) Scan(ctx context.Context, msg []byte) (Result, error) {
	if int64(len(msg)) > c.maxSize() {
		return Result{}, fmt.Errorf("%w: %d bytes, more than the limit of %d", ErrTooLarge, len(msg), c.maxSize())
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, c.Network, c.Address)
	if err != nil {
		return Result{}, &Error{Op: "dial", Err: err}
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	if err := conn.SetDeadline(deadline); err != nil {
		return Result{}, &Error{Op: "dial", Err: err}
	}
	// Cancellation (the runner stopping) closes the connection at once.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	sendErr := c.send(conn, msg)
	// clamd answers and closes when its StreamMaxLength is reached, which
	// may break the stream: its reply says why, so read it even then.
	reply, readErr := readReply(conn)
	if readErr != nil {
		if sendErr != nil {
			return Result{}, &Error{Op: "send", Err: sendErr}
		}
		return Result{}, &Error{Op: "reply", Err: readErr}
	}
	res, err := parseReply(reply)
	if err != nil {
		return Result{}, err
	}
	if sendErr != nil && !res.Infected {
		// A clean verdict on a stream that did not arrive whole is no
		// verdict; a signature found in what arrived still counts.
		return Result{}, &Error{Op: "send", Err: sendErr}
	}
	return res, nil
}

// send writes the INSTREAM command, the chunks and the terminator.
func (c *Client) send(w io.Writer, msg []byte) error {
	if _, err := io.WriteString(w, "zINSTREAM\x00"); err != nil {
		return err
	}
	size := c.chunkSize()
	var hdr [4]byte
	for len(msg) > 0 {
		n := min(size, len(msg))
		binary.BigEndian.PutUint32(hdr[:], uint32(n))
		if _, err := w.Write(hdr[:]); err != nil {
			return err
		}
		if _, err := w.Write(msg[:n]); err != nil {
			return err
		}
		msg = msg[n:]
	}
	binary.BigEndian.PutUint32(hdr[:], 0)
	_, err := w.Write(hdr[:])
	return err
}

// readReply reads clamd's NUL-terminated reply (at most maxReply bytes; a
// reply cut by the end of the stream is accepted).
func readReply(r io.Reader) (string, error) {
	buf := make([]byte, 0, 256)
	tmp := make([]byte, 256)
	for {
		n, err := r.Read(tmp)
		buf = append(buf, tmp[:n]...)
		if i := bytes.IndexByte(buf, 0); i >= 0 {
			return string(buf[:i]), nil
		}
		if len(buf) > maxReply {
			return "", fmt.Errorf("reply longer than %d bytes without its terminator", maxReply)
		}
		if errors.Is(err, io.EOF) {
			if len(buf) == 0 {
				return "", errors.New("connection closed without a reply")
			}
			return string(buf), nil
		}
		if err != nil {
			return "", err
		}
	}
}

// parseReply reads "stream: OK", "stream: NAME FOUND", "INSTREAM size limit
// exceeded. ERROR" or "stream: WHY ERROR".
func parseReply(reply string) (Result, error) {
	reply = strings.TrimRight(reply, "\r\n")
	switch {
	case reply == "stream: OK":
		return Result{}, nil
	case strings.HasPrefix(reply, "INSTREAM size limit exceeded"):
		return Result{}, fmt.Errorf("%w: clamd's StreamMaxLength was reached", ErrTooLarge)
	case strings.HasPrefix(reply, "stream: ") && strings.HasSuffix(reply, " FOUND"):
		name := strings.TrimSuffix(strings.TrimPrefix(reply, "stream: "), " FOUND")
		if name == "" || len(name) > 200 || strings.IndexFunc(name, func(r rune) bool { return r > unicode.MaxASCII || !unicode.IsPrint(r) }) >= 0 {
			return Result{}, &Error{Op: "reply", Err: fmt.Errorf("malformed signature name in %s", quote(reply))}
		}
		return Result{Infected: true, Signature: name}, nil
	case strings.HasSuffix(reply, " ERROR"):
		return Result{}, &Error{Op: "reply", Err: fmt.Errorf("clamd error %s", quote(reply))}
	}
	return Result{}, &Error{Op: "reply", Err: fmt.Errorf("not a verdict: %s", quote(reply))}
}

// quote renders a reply for an error, bounded and escaped.
func quote(s string) string {
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return fmt.Sprintf("%q", s)
}
