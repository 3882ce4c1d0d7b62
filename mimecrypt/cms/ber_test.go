package cms

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// normalizeRef is Normalize as it was before it measured first: every
// constructed element copied its converted children (one copy of the whole
// object per level of nesting). The fuzz test holds Normalize to it.
func normalizeRef(ber []byte) ([]byte, error) {
	if len(ber) > MaxInput {
		return nil, ErrTooLarge
	}
	if len(ber) == 0 {
		return nil, ErrMalformed
	}
	out, rest, err := convertBERRef(ber, 0)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, ErrMalformed
	}
	return out, nil
}

// convertBERRef converts one element and returns it with the rest of the input.
func convertBERRef(in []byte, depth int) (out, rest []byte, err error) {
	if depth > MaxDepth {
		return nil, nil, fmt.Errorf("%w: ASN.1 nesting deeper than %d", ErrTooLarge, MaxDepth)
	}
	id, constructed, length, rest, err := berHeader(in)
	if err != nil {
		return nil, nil, err
	}
	if !constructed {
		return appendTLVID(nil, id, rest[:length]), rest[length:], nil
	}
	var body []byte
	if length >= 0 {
		body, rest = rest[:length], rest[length:]
	} else {
		body = rest
	}
	var content []byte
	octets := len(id) == 1 && id[0] == 0x24 // constructed universal OCTET STRING
	for {
		if length < 0 {
			if len(body) >= 2 && body[0] == 0 && body[1] == 0 {
				body = body[2:]
				break
			}
			if len(body) == 0 {
				return nil, nil, fmt.Errorf("%w: missing end-of-contents (truncated)", ErrMalformed)
			}
		} else if len(body) == 0 {
			break
		}
		child, after, err := convertBERRef(body, depth+1)
		if err != nil {
			return nil, nil, err
		}
		body = after
		if octets {
			if child[0] != 0x04 {
				return nil, nil, fmt.Errorf("%w: constructed OCTET STRING holds a non-string", ErrMalformed)
			}
			_, _, l, c, err := berHeader(child)
			if err != nil {
				return nil, nil, err
			}
			content = append(content, c[:l]...)
		} else {
			content = append(content, child...)
		}
		if len(content) > MaxInput {
			return nil, nil, fmt.Errorf("%w: element larger than %d bytes", ErrTooLarge, MaxInput)
		}
	}
	if length < 0 {
		rest = body
	}
	if octets {
		return appendTLVID(nil, []byte{0x04}, content), rest, nil
	}
	return appendTLVID(nil, id, content), rest, nil
}

// berSeeds are BER and DER objects for the tests: definite and
// indefinite, chunked strings nested, non-minimal lengths, high tags.
func berSeeds(t testing.TB) [][]byte {
	id := identities(t)["ec"]
	env, err := Encrypt(bytes.Repeat([]byte("content of the post "), 500), EncryptOptions{})
	if err != nil {
		t.Fatal(err)
	}
	der, err := env.For(id.cert)
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{
		der,
		{0x30, 0x80, 0x24, 0x80, 0x04, 0x02, 'a', 'b', 0x04, 0x01, 'c', 0, 0, 0, 0},
		{0x30, 0x80, 0x24, 0x80, 0x24, 0x04, 0x04, 0x02, 'a', 'b', 0x04, 0x01, 'c', 0, 0, 0, 0},
		{0x30, 0x81, 0x03, 0x02, 0x01, 0x01},
		{0x30, 0x03, 0x02, 0x81, 0x01, 0x01},
		{0x30, 0x03, 0x02, 0x01, 0x01},
		{0x24, 0x06, 0x04, 0x01, 'a', 0x04, 0x01, 'b'},
		{0xbf, 0x81, 0x00, 0x80, 0x04, 0x01, 'x', 0, 0},
		{0xa0, 0x80, 0x04, 0x01, 'x', 0, 0},
		{0x30, 0x82, 0x00, 0x03, 0x02, 0x01, 0x01},
	}
}

// TestNormalizeAsBefore: Normalize gives what it gave before it measured
// first, for DER (returned as it is, not copied) and for BER (written
// once).
func TestNormalizeAsBefore(t *testing.T) {
	for i, in := range berSeeds(t) {
		want, werr := normalizeRef(in)
		got, err := Normalize(in)
		if (err == nil) != (werr == nil) || !bytes.Equal(got, want) {
			t.Fatalf("seed %d: got % x, %v; want % x, %v", i, got, err, want, werr)
		}
		if err != nil {
			continue
		}
		alias := len(got) > 0 && &got[0] == &in[0]
		if isDER := bytes.Equal(in, want); alias != isDER {
			t.Errorf("seed %d: DER %v, returned the input itself %v", i, isDER, alias)
		}
	}
}

// FuzzNormalize holds Normalize to normalizeRef on any input: the same
// bytes, or an error of the same kind.
func FuzzNormalize(f *testing.F) {
	for _, s := range berSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		want, werr := normalizeRef(in)
		got, err := Normalize(in)
		switch {
		case (err == nil) != (werr == nil):
			t.Fatalf("Normalize(% x) = %v, before %v", in, err, werr)
		case err != nil:
			for _, kind := range []error{ErrMalformed, ErrTooLarge} {
				if errors.Is(werr, kind) != errors.Is(err, kind) {
					t.Fatalf("Normalize(% x) = %v, before %v", in, err, werr)
				}
			}
		case !bytes.Equal(got, want):
			t.Fatalf("Normalize(% x) = % x, before % x", in, got, want)
		}
	})
}

// bigBER is a 25 MB object nested four deep: DER, or BER with indefinite
// lengths and the string in 1,000-byte chunks, as NSS streams it.
func bigBER(der bool) []byte {
	chunk := bytes.Repeat([]byte{0xa5}, 1000)
	if der {
		s := tlv(0x04, bytes.Repeat(chunk, 25<<10))
		return tlv(0x30, tlv(0xa0, tlv(0x30, tlv(0x02, []byte{0}), s)))
	}
	b := []byte{0x30, 0x80, 0xa0, 0x80, 0x30, 0x80, 0x02, 0x01, 0x00, 0x24, 0x80}
	for range 25 << 10 {
		b = append(b, tlv(0x04, chunk)...)
	}
	return append(b, make([]byte, 8)...)
}

// BenchmarkNormalize25MB: the bytes Normalize allocates for a 25 MB
// object (B/op), against the copy-per-level conversion it replaced.
func BenchmarkNormalize25MB(b *testing.B) {
	for _, der := range []bool{true, false} {
		in := bigBER(der)
		name := map[bool]string{true: "DER", false: "BER"}[der]
		for _, impl := range []struct {
			name string
			f    func([]byte) ([]byte, error)
		}{{"now", Normalize}, {"before", normalizeRef}} {
			b.Run(name+"/"+impl.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(in)))
				for b.Loop() {
					if _, err := impl.f(in); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
