package keyring

import (
	"bytes"
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// Bounds of a key fetched over HTTP.
const (
	// DefaultFetchTimeout bounds one whole HTTP exchange (connect, TLS,
	// headers and body).
	DefaultFetchTimeout = 15 * time.Second
	// DefaultFetchMaxSize bounds a response body.
	DefaultFetchMaxSize = 1 << 20
	// maxFetchRedirects bounds the redirects followed for one request.
	maxFetchRedirects = 3
)

// ErrFetchNotFound means no source had a key for the address.
var ErrFetchNotFound = errors.New("no key found")

// Fetcher gets subscribers' OpenPGP keys over HTTP: by the Web Key
// Directory (draft-koch-openpgp-webkey-service, advanced method then direct
// method) and from a keyserver speaking the VKS API (keys.openpgp.org's
// /vks/v1/by-email/). The zero value uses WKD only, with the default
// bounds.
type Fetcher struct {
	// Keyserver is the base URL of a VKS keyserver (https://keys.openpgp.org);
	// empty for none.
	Keyserver string
	// NoWKD skips the Web Key Directory (keyserver only).
	NoWKD bool
	// Timeout bounds one HTTP exchange (DefaultFetchTimeout if zero).
	Timeout time.Duration
	// MaxSize bounds a response body (DefaultFetchMaxSize if zero).
	MaxSize int64
	// Client is the HTTP client; nil makes one with the bounds above
	// (NewFetchClient).
	Client *http.Client
	// Origin maps a host name to the base URL requests to it go to; nil
	// means "https://" + host. Tests point it at a local server.
	Origin func(host string) string
}

// NewFetchClient returns an HTTP client for key fetching: timeout bounds
// each whole exchange as well as dialing, TLS and response headers, at most
// three redirects are followed, and a redirect from https to http is
// refused.
func NewFetchClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultFetchTimeout
	}
	tr := &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		DialContext:            (&net.Dialer{Timeout: timeout}).DialContext,
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		MaxResponseHeaderBytes: 64 << 10,
		DisableCompression:     true, // a compressed body would escape the size bound's meaning
	}
	return &http.Client{
		Timeout:   timeout,
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > maxFetchRedirects {
				return fmt.Errorf("more than %d redirects", maxFetchRedirects)
			}
			if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
				return fmt.Errorf("redirect from https to %s refused", req.URL.Scheme)
			}
			return nil
		},
	}
}

// zbase32Alphabet is the z-base-32 alphabet (RFC 6189 section 5.1.6).
const zbase32Alphabet = "ybndrfg8ejkmcpqxot1uwisza345h769"

// zbase32 encodes b in z-base-32, 5 bits per character, most significant
// bits first; a last partial group is padded with zero bits.
func zbase32(b []byte) string {
	var out strings.Builder
	var acc uint32
	bits := 0
	for _, c := range b {
		acc = acc<<8 | uint32(c)
		bits += 8
		for bits >= 5 {
			out.WriteByte(zbase32Alphabet[(acc>>(bits-5))&31])
			bits -= 5
		}
	}
	if bits > 0 {
		out.WriteByte(zbase32Alphabet[(acc<<(5-bits))&31])
	}
	return out.String()
}

// WKDHash returns the Web Key Directory name of a local part: the
// z-base-32 encoding of the SHA-1 of the local part in lower case (ASCII
// letters only are mapped, as the draft says).
func WKDHash(local string) string {
	lower := []byte(local)
	for i, c := range lower {
		if 'A' <= c && c <= 'Z' {
			lower[i] = c + 'a' - 'A'
		}
	}
	sum := sha1.Sum(lower)
	return zbase32(sum[:])
}

// WKDURLs returns the advanced and the direct method's URLs of address's
// key in the Web Key Directory, each with origin applied to its host (nil:
// https).
func WKDURLs(address string, origin func(string) string) (advanced, direct string, err error) {
	local, domain, ok := strings.Cut(strings.TrimSpace(address), "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(address, " \t\r\n<>/\\?#\x00") || len(address) > 254 {
		return "", "", fmt.Errorf("%q is not a mail address", address)
	}
	domain = strings.ToLower(domain)
	if origin == nil {
		origin = func(h string) string { return "https://" + h }
	}
	hu, l := WKDHash(local), url.QueryEscape(local)
	advanced = origin("openpgpkey."+domain) + "/.well-known/openpgpkey/" + domain + "/hu/" + hu + "?l=" + l
	direct = origin(domain) + "/.well-known/openpgpkey/hu/" + hu + "?l=" + l
	return advanced, direct, nil
}

// Fetched is a key fetched for an address.
type Fetched struct {
	// Key is the chosen transferable public key, binary (AddOpenPGP
	// strips its third-party certifications).
	Key []byte
	// Fingerprint is the key's fingerprint.
	Fingerprint string
	// Source is the URL it came from.
	Source string
}

// Fetch gets the OpenPGP key of address: from the Web Key Directory
// (advanced method, then direct), then from the keyserver. A response may
// hold several keys; only keys with a self-signed user ID carrying the
// address are taken, and of those the newest that is not revoked. The
// error of every source tried is reported when none has a key; it wraps
// ErrFetchNotFound.
func (f *Fetcher) Fetch(ctx context.Context, address string) (*Fetched, error) {
	addr, err := normAddress(address)
	if err != nil {
		return nil, err
	}
	var urls []string
	if !f.NoWKD {
		// The local part keeps its case in ?l= (the hash lower-cases it).
		local, _, _ := strings.Cut(strings.TrimSpace(address), "@")
		adv, dir, err := WKDURLs(local+"@"+strings.SplitN(addr, "@", 2)[1], f.Origin)
		if err != nil {
			return nil, err
		}
		urls = append(urls, adv, dir)
	}
	if f.Keyserver != "" {
		base := strings.TrimRight(f.Keyserver, "/")
		u, err := url.Parse(base)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("keyserver %q: want an http(s) URL", f.Keyserver)
		}
		urls = append(urls, base+"/vks/v1/by-email/"+url.PathEscape(addr))
	}
	if len(urls) == 0 {
		return nil, errors.New("fetch: no source (WKD off and no keyserver)")
	}
	client := f.Client
	if client == nil {
		client = NewFetchClient(f.Timeout)
	}
	var errs []error
	for _, u := range urls {
		body, err := f.get(ctx, client, u)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		e, err := pickKey(body, addr)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", u, err))
			continue
		}
		var pub bytes.Buffer
		if err := e.Serialize(&pub); err != nil {
			return nil, fmt.Errorf("serialize fetched key: %w", err)
		}
		return &Fetched{Key: pub.Bytes(), Fingerprint: Fingerprint(e), Source: u}, nil
	}
	return nil, fmt.Errorf("fetch key of %s: %w: %w", addr, ErrFetchNotFound, errors.Join(errs...))
}

// get fetches one URL with the size bound.
func (f *Fetcher) get(ctx context.Context, client *http.Client, u string) ([]byte, error) {
	max := f.MaxSize
	if max <= 0 {
		max = DefaultFetchMaxSize
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u, err)
	}
	req.Header.Set("Accept", "application/octet-stream, application/pgp-keys")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get %s: %s", u, resp.Status)
	}
	if resp.ContentLength > max {
		return nil, fmt.Errorf("get %s: response of %d bytes is larger than %d", u, resp.ContentLength, max)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", u, err)
	}
	if int64(len(body)) > max {
		return nil, fmt.Errorf("get %s: response larger than %d bytes", u, max)
	}
	return body, nil
}

// pickKey returns, of the keys in data (armored or binary), the newest
// one that is not revoked and has a self-signed user ID carrying addr.
func pickKey(data []byte, addr string) (*openpgp.Entity, error) {
	el, err := readKeys(data)
	if err != nil {
		return nil, err
	}
	var best *openpgp.Entity
	var seen []string
	for _, e := range el {
		if len(e.Subkeys) > maxSubkeys || len(e.Identities) > maxIdentities {
			continue
		}
		uids := userIDAddresses(e)
		seen = append(seen, uids...)
		if !slices.Contains(uids, addr) || e.Revoked(time.Now()) {
			continue
		}
		if best == nil || e.PrimaryKey.CreationTime.After(best.PrimaryKey.CreationTime) {
			best = e
		}
	}
	if best == nil {
		return nil, fmt.Errorf("no usable key carries %s (user IDs seen: %s): %w", addr, strings.Join(seen, ", "), ErrNotBound)
	}
	return best, nil
}
