package client

import (
	"bytes"
	"context"
	"errors"
	"net/http"

	"cloister/api"
	"cloister/keyring"
	"cloister/service"
)

// The list keys, the keyring and the site's chores go through the API's
// site:admin routes (the list key's owners for key requests). What the CLI
// reads from a file on the operator's side is sent as bytes; a list's
// secret key is made on the server and never leaves it.

// ListKeyGenerate implements service.API.
func (c *Client) ListKeyGenerate(ctx context.Context, _ service.Actor, req service.ListKeyGenerateRequest) (service.ListKeyResult, error) {
	var out service.ListKeyResult
	return out, c.Do(ctx, http.MethodPost, "/v1/lists/"+esc(req.List)+"/listkeys", nil,
		api.ListKeyGenerateBody{Kind: req.Kind, RSABits: req.RSABits, Name: req.Name}, &out)
}

// ListKeyImport implements service.API: the key goes in the request (over
// the socket or TLS), its password too; neither is recorded.
func (c *Client) ListKeyImport(ctx context.Context, _ service.Actor, req service.ListKeyImportRequest) (service.ListKeyResult, error) {
	var out service.ListKeyResult
	return out, c.Do(ctx, http.MethodPost, "/v1/lists/"+esc(req.List)+"/listkeys/import", nil,
		api.ListKeyImportBody{Kind: req.Kind, Key: req.Key, Password: req.Password}, &out)
}

// ListKeyRevoke implements service.API.
func (c *Client) ListKeyRevoke(ctx context.Context, _ service.Actor, req service.ListKeyRevokeRequest) (service.ListKeyResult, error) {
	var out service.ListKeyResult
	return out, c.Do(ctx, http.MethodDelete, "/v1/lists/"+esc(req.List)+"/listkeys/"+esc(req.Fingerprint), nil, nil, &out)
}

// KeyringRekey implements service.API.
func (c *Client) KeyringRekey(ctx context.Context, _ service.Actor, req service.RekeyRequest) (int, error) {
	var out api.Rekeyed
	err := c.Do(ctx, http.MethodPost, "/v1/keyring/rekey", nil, api.RekeyBody{Passphrase: string(req.Passphrase)}, &out)
	return out.Keys, err
}

// KeyBulkImport implements service.API: the keys go as one binary
// keyring.
func (c *Client) KeyBulkImport(ctx context.Context, _ service.Actor, req service.KeyBulkImportRequest) ([]keyring.BulkResult, error) {
	var buf bytes.Buffer
	for _, e := range req.Keys {
		if err := e.Serialize(&buf); err != nil {
			return nil, &service.Error{Code: service.CodeInvalid, Message: "a key cannot be sent: " + err.Error(), Err: err}
		}
	}
	var out []api.BulkKeyResult
	err := c.DoRaw(ctx, http.MethodPost, "/v1/keys/import", nil, "application/pgp-keys", buf.Bytes(), &out)
	res := make([]keyring.BulkResult, len(out))
	for i, r := range out {
		res[i] = keyring.BulkResult{Fingerprint: r.Fingerprint, Bound: r.Bound, NotBound: r.NotBound}
		if r.Error != "" {
			res[i].Err = errors.New(r.Error)
		}
	}
	return res, err
}

// HeldExpire implements service.API.
func (c *Client) HeldExpire(ctx context.Context, _ service.Actor) (service.HeldExpired, error) {
	var out service.HeldExpired
	return out, c.Do(ctx, http.MethodPost, "/v1/held/expire", nil, nil, &out)
}

// QueueRequeue implements service.API.
func (c *Client) QueueRequeue(ctx context.Context, _ service.Actor, req service.QueueRequeueRequest) ([]service.Requeued, error) {
	var out []service.Requeued
	return out, c.Do(ctx, http.MethodPost, "/v1/queues/"+esc(req.Queue)+"/requeue", nil, req, &out)
}

// KeyRequestDecide implements service.API.
func (c *Client) KeyRequestDecide(ctx context.Context, _ service.Actor, req service.KeyRequestDecideRequest) (string, error) {
	var out api.Decided
	err := c.Do(ctx, http.MethodPost, "/v1/lists/"+esc(req.List)+"/keyrequests/"+esc(req.ID), nil,
		api.KeyRequestDecideBody{Approve: req.Approve}, &out)
	return out.Text, err
}

// KeyExpiryNotices implements service.API.
func (c *Client) KeyExpiryNotices(ctx context.Context, _ service.Actor) (int, error) {
	var out api.Sent
	err := c.Do(ctx, http.MethodPost, "/v1/keys/expiry-notices", nil, nil, &out)
	return out.Sent, err
}
