package xrayapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Error is an X-Ray error answer: HTTP status, X-Amzn-ErrorType and message.
type Error struct {
	Status  int
	Type    string
	Message string
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

// InvalidRequest returns an InvalidRequestException (HTTP 400).
func InvalidRequest(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Type: "InvalidRequestException", Message: fmt.Sprintf(format, args...)}
}

// throttler is implemented by errors that mean "overloaded, retry".
type throttler interface{ Throttled() bool }

// toAPIError classifies any error into the X-Ray error shape. It is the only
// place errors become statuses.
func toAPIError(err error) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	var th throttler
	if errors.As(err, &th) && th.Throttled() {
		return &Error{Status: http.StatusTooManyRequests, Type: "ThrottledException", Message: err.Error()}
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		// 400, not 413: X-Ray clients know InvalidRequestException as a 400.
		return &Error{Status: http.StatusBadRequest, Type: "InvalidRequestException",
			Message: fmt.Sprintf("request body exceeds the %d-byte limit; send fewer documents per call", mbe.Limit)}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Status: http.StatusServiceUnavailable, Type: "ServiceUnavailable", Message: err.Error()}
	}
	return &Error{Status: http.StatusInternalServerError, Type: "InternalFailure", Message: err.Error()}
}

// WriteError writes err in the X-Ray error shape: status, X-Amzn-ErrorType
// header, and a body with __type and message.
func WriteError(w http.ResponseWriter, err error) {
	ae := toAPIError(err)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", ae.Type)
	w.WriteHeader(ae.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": ae.Type, "message": ae.Message})
}
