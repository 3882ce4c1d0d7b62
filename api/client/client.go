// Package client is a remote service.API: it sends each operation to a
// `cloister api` daemon over its Unix socket or over TLS, so that the CLI's
// --api mode runs the same commands against a remote site. The daemon's
// JSON errors come back as *service.Error with their stable codes.
package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"cloister/service"
)

// Client talks to one API daemon with one token.
type Client struct {
	base   string
	token  string
	client *http.Client
}

// Options configure a Client.
type Options struct {
	// Fingerprint pins the daemon's TLS certificate by its hex SHA-256
	// (what `cloister api` prints); empty: the system's roots verify it.
	Fingerprint string
	// Timeout bounds one request (default one minute).
	Timeout time.Duration
}

// New returns a client of the daemon at addr: "unix:/path/to/api.sock" or
// "https://127.0.0.1:8443".
func New(addr, token string, opts Options) (*Client, error) {
	if token == "" {
		return nil, errors.New("api client: no token")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = time.Minute
	}
	tr := &http.Transport{MaxIdleConns: 4, IdleConnTimeout: 30 * time.Second, ForceAttemptHTTP2: false}
	c := &Client{token: token, client: &http.Client{Transport: tr, Timeout: opts.Timeout}}
	switch {
	case strings.HasPrefix(addr, "unix:"):
		path := strings.TrimPrefix(addr, "unix:")
		if path == "" {
			return nil, errors.New("api client: unix: needs a socket path")
		}
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}
		c.base = "http://cloister"
	case strings.HasPrefix(addr, "https://"):
		u, err := url.Parse(addr)
		if err != nil {
			return nil, fmt.Errorf("api client: %w", err)
		}
		c.base = strings.TrimSuffix(u.String(), "/")
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		if opts.Fingerprint != "" {
			want := strings.ToLower(strings.ReplaceAll(opts.Fingerprint, ":", ""))
			tr.TLSClientConfig.InsecureSkipVerify = true // replaced by the pin below
			tr.TLSClientConfig.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
				if len(raw) == 0 {
					return errors.New("the API daemon sent no certificate")
				}
				sum := sha256.Sum256(raw[0])
				if hex.EncodeToString(sum[:]) != want {
					return fmt.Errorf("the API daemon's certificate sha256 %x is not the pinned %s", sum, want)
				}
				return nil
			}
		}
	default:
		return nil, fmt.Errorf("api client: address %q: want unix:PATH or https://HOST:PORT", addr)
	}
	return c, nil
}

// ReadTokenFile reads a token secret from a file (first line, trimmed).
func ReadTokenFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read token file: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	tok := strings.TrimSpace(line)
	if tok == "" {
		return "", fmt.Errorf("token file %s is empty", path)
	}
	return tok, nil
}

// errorBody is the daemon's error JSON.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Do sends one request: body (nil for none) as JSON, the answer decoded
// into out (nil to discard it).
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	if body == nil {
		return c.DoRaw(ctx, method, path, query, "", nil, out)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	return c.DoRaw(ctx, method, path, query, "application/json", b, out)
}

// DoRaw sends one request with a body of a media type (none when ct is
// empty) and decodes the JSON answer into out.
func (c *Client) DoRaw(ctx context.Context, method, path string, query url.Values, ct string, body []byte, out any) error {
	data, _, err := c.send(ctx, method, path, query, ct, body)
	if err != nil || out == nil {
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &service.Error{Code: service.CodeUnavailable, Message: "the API daemon's answer is not the expected JSON", Err: err}
	}
	return nil
}

// Get fetches a raw answer (an export) and its media type.
func (c *Client) Get(ctx context.Context, path string, query url.Values) ([]byte, string, error) {
	return c.send(ctx, http.MethodGet, path, query, "", nil)
}

// send makes one request and returns the answer's body and media type, or
// the daemon's error as a *service.Error.
func (c *Client) send(ctx context.Context, method, path string, query url.Values, ct string, body []byte) ([]byte, string, error) {
	var rd io.Reader
	if ct != "" {
		rd = bytes.NewReader(body)
	}
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, "", fmt.Errorf("api request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, "", &service.Error{Code: service.CodeUnavailable, Message: "the API daemon cannot be reached", Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, "", &service.Error{Code: service.CodeUnavailable, Message: "the API daemon's answer was cut short", Err: err}
	}
	if resp.StatusCode >= 300 || resp.StatusCode == http.StatusAccepted {
		var eb errorBody
		if json.Unmarshal(data, &eb) != nil || eb.Error.Code == "" {
			return nil, "", &service.Error{Code: service.CodeUnavailable, Message: fmt.Sprintf("the API daemon answered %s", resp.Status)}
		}
		return nil, "", &service.Error{Code: eb.Error.Code, Message: eb.Error.Message}
	}
	return data, resp.Header.Get("Content-Type"), nil
}

// esc escapes one path segment.
func esc(s string) string { return url.PathEscape(s) }
