package mta

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"cloister/internal/listaddr"
)

// Socketmap map names: what Postfix names after the socket in
// socketmap:inet:HOST:PORT:NAME.
const (
	// MapDomains answers for a domain the site serves (relay_domains).
	MapDomains = "domains"
	// MapRecipients answers for a list address or one of its subaddresses
	// (relay_recipient_maps), so unknown addresses are refused at RCPT time.
	MapRecipients = "recipients"
	// MapTransport answers a served domain with the pipe transport (transport_maps).
	MapTransport = "transport"
)

// Limits of the socketmap service.
const (
	// maxRequest bounds one netstring request (Postfix's own client limit
	// is 100000; an address lookup is far smaller).
	maxRequest = 10000
	// socketmapIdle is how long a connection may stay silent; Postfix
	// reconnects when it needs to.
	socketmapIdle = 5 * time.Minute
	// maxConns bounds the connections served at once.
	maxConns = 128
)

// Socketmap is the lookup service Postfix asks for list addresses and
// domains through socketmap_table(5): it reads lists.idx (rewritten
// atomically by Cloister on every list create and delete) whenever the file
// has changed, so a new list is routed without a postmap or a reload.
type Socketmap struct {
	// IndexPath is lists.idx.
	IndexPath string
	// Domains are the site's served domains (config's domain and domains);
	// the domains of existing lists are served too.
	Domains []string
	// Transport is the master.cf service the transport map names ("cloister").
	Transport string
	// Log receives one line per refused request or connection error.
	Log *slog.Logger

	mu    sync.Mutex
	stamp indexStamp
	idx   listaddr.Index
}

// indexStamp tells whether lists.idx was replaced or changed.
type indexStamp struct {
	mod  time.Time
	size int64
	ino  uint64
}

// index returns the current list index, reading the file again when it has
// changed since the last lookup.
func (m *Socketmap) index() (listaddr.Index, error) {
	fi, err := os.Stat(m.IndexPath)
	if err != nil {
		return nil, fmt.Errorf("list index: %w", err)
	}
	st := indexStamp{mod: fi.ModTime(), size: fi.Size(), ino: inode(fi)}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.idx != nil && st == m.stamp {
		return m.idx, nil
	}
	idx, err := listaddr.ReadIndex(m.IndexPath)
	if err != nil {
		return nil, err
	}
	m.idx, m.stamp = idx, st
	return idx, nil
}

// Lookup answers one request: status is OK, NOTFOUND, TEMP or PERM
// (socketmap_table(5)), data the value or the reason.
func (m *Socketmap) Lookup(name, key string) (status, data string) {
	key = strings.ToLower(strings.TrimSpace(key))
	if key == "" {
		return "NOTFOUND", ""
	}
	idx, err := m.index()
	if err != nil {
		return "TEMP", "cloister: " + err.Error()
	}
	switch name {
	case MapDomains:
		if m.served(idx, key) {
			return "OK", key
		}
	case MapTransport:
		// Postfix asks a socketmap for the whole address only (it is not
		// a table of partial keys, transport(5)). Every address of a served
		// domain gets the pipe, whether a list has it or not: smtpd caches
		// the transport it resolved for an address across sessions, so an
		// answer that depended on the lists would keep refusing a list
		// created just after someone asked for it. The recipients map,
		// which Postfix does not cache, is the one that refuses unknown
		// addresses. A bare domain is answered too.
		if m.served(idx, listaddr.Domain("@"+key)) {
			return "OK", m.transport() + ":"
		}
	case MapRecipients:
		if _, _, _, ok := idx.Resolve(key); ok {
			return "OK", "OK"
		}
	default:
		return "PERM", "cloister: no map " + name + " (want " + MapDomains + ", " + MapRecipients + " or " + MapTransport + ")"
	}
	return "NOTFOUND", ""
}

func (m *Socketmap) transport() string {
	if m.Transport == "" {
		return "cloister"
	}
	return m.Transport
}

// served tells whether domain is one of the site's domains or holds a list.
func (m *Socketmap) served(idx listaddr.Index, domain string) bool {
	if slices.Contains(m.Domains, domain) {
		return true
	}
	for a := range idx {
		if listaddr.Domain(a) == domain {
			return true
		}
	}
	return false
}

// Serve answers connections on ln until ctx ends; then it closes ln and
// waits for the connections in progress.
func (m *Socketmap) Serve(ctx context.Context, ln net.Listener) error {
	var wg sync.WaitGroup
	slots := make(chan struct{}, maxConns)
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	conns := map[net.Conn]bool{}
	var mu sync.Mutex
	defer func() {
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("socketmap accept: %w", err)
		}
		select {
		case slots <- struct{}{}:
		default:
			m.log().Warn("socketmap: too many connections, closing one", "limit", maxConns)
			c.Close()
			continue
		}
		mu.Lock()
		conns[c] = true
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			m.serveConn(c)
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
		}()
	}
}

func (m *Socketmap) log() *slog.Logger {
	if m.Log == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return m.Log
}

// serveConn answers the requests of one connection until it closes, stays
// idle too long or sends something that is not a netstring request.
func (m *Socketmap) serveConn(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		c.SetReadDeadline(time.Now().Add(socketmapIdle))
		req, err := ReadNetstring(r, maxRequest)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, net.ErrClosed) {
				m.log().Warn("socketmap: bad request, closing the connection", "remote", c.RemoteAddr().String(), "err", err)
			}
			return
		}
		name, key, ok := strings.Cut(string(req), " ")
		var status, data string
		if !ok {
			status, data = "PERM", "cloister: a request is NAME KEY"
		} else {
			status, data = m.Lookup(name, key)
		}
		// "NOTFOUND " keeps its space: STATUS SP DATA.
		reply := status + " " + data
		c.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if _, err := c.Write(Netstring([]byte(reply))); err != nil {
			return
		}
	}
}

// Netstring encodes b as a netstring: LENGTH ":" BYTES ",".
func Netstring(b []byte) []byte {
	out := strconv.AppendInt(nil, int64(len(b)), 10)
	out = append(out, ':')
	out = append(out, b...)
	return append(out, ',')
}

// ReadNetstring reads one netstring of at most limit bytes. io.EOF means
// the connection closed between requests.
func ReadNetstring(r *bufio.Reader, limit int) ([]byte, error) {
	n := 0
	digits := 0
	for {
		b, err := r.ReadByte()
		if err != nil {
			if digits > 0 && errors.Is(err, io.EOF) {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if b == ':' {
			break
		}
		if b < '0' || b > '9' {
			return nil, fmt.Errorf("netstring: length has %q", b)
		}
		if digits > 0 && n == 0 {
			return nil, errors.New("netstring: length has a leading zero")
		}
		digits++
		n = n*10 + int(b-'0')
		if n > limit {
			return nil, fmt.Errorf("netstring: longer than %d bytes", limit)
		}
	}
	if digits == 0 {
		return nil, errors.New("netstring: no length")
	}
	buf := make([]byte, n+1)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("netstring: %w", io.ErrUnexpectedEOF)
	}
	if buf[n] != ',' {
		return nil, errors.New("netstring: no comma after the data")
	}
	return buf[:n], nil
}
