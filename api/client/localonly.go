package client

import (
	"context"

	"cloister/keyring"
	"cloister/service"
)

// localOnly refuses an operation that is done on the server only: making
// or importing a list's secret key (the key never travels).
func localOnly(what string) error {
	return &service.Error{Code: service.CodeInvalid,
		Message: what + " works on the local site only: run it on the server, without --api"}
}

// ListKeyGenerate implements service.API: refused (local site only).
func (c *Client) ListKeyGenerate(context.Context, service.Actor, service.ListKeyGenerateRequest) (service.ListKeyResult, error) {
	return service.ListKeyResult{}, localOnly("making a list key")
}

// ListKeyImport implements service.API: refused (local site only).
func (c *Client) ListKeyImport(context.Context, service.Actor, service.ListKeyImportRequest) (service.ListKeyResult, error) {
	return service.ListKeyResult{}, localOnly("importing a list's secret key")
}

// ListKeyRevoke implements service.API: refused (local site only).
func (c *Client) ListKeyRevoke(context.Context, service.Actor, service.ListKeyRevokeRequest) (service.ListKeyResult, error) {
	return service.ListKeyResult{}, localOnly("revoking a list key")
}

// KeyringRekey implements service.API: refused (local site only).
func (c *Client) KeyringRekey(context.Context, service.Actor, service.RekeyRequest) (int, error) {
	return 0, localOnly("re-sealing the list keys")
}

// KeyBulkImport implements service.API: refused (local site only).
func (c *Client) KeyBulkImport(context.Context, service.Actor, service.KeyBulkImportRequest) ([]keyring.BulkResult, error) {
	return nil, localOnly("importing keys in bulk")
}

// HeldExpire implements service.API: refused (local site only; the
// runners expire held posts every hour).
func (c *Client) HeldExpire(context.Context, service.Actor) (service.HeldExpired, error) {
	return service.HeldExpired{}, localOnly("expiring held posts")
}

// QueueRequeue implements service.API: refused (local site only).
func (c *Client) QueueRequeue(context.Context, service.Actor, service.QueueRequeueRequest) ([]service.Requeued, error) {
	return nil, localOnly("requeueing entries")
}

// KeyRequestDecide implements service.API: refused (local site only).
func (c *Client) KeyRequestDecide(context.Context, service.Actor, service.KeyRequestDecideRequest) (string, error) {
	return "", localOnly("deciding a key request")
}

// KeyExpiryNotices implements service.API: refused (local site only; the
// runners send them every day).
func (c *Client) KeyExpiryNotices(context.Context, service.Actor) (int, error) {
	return 0, localOnly("sending key expiry notices")
}
