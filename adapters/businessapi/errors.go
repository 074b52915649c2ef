package businessapi

import (
	"encoding/json"
	"net/http"
)

// Problem is every error's body: a stable code, a sentence for people and,
// for invalid input, what is wrong with which field.
type Problem struct {
	Code    string       `json:"code"`
	Message string       `json:"message"`
	Fields  []FieldError `json:"fields,omitempty"`
}

// FieldError names one invalid field of a request.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	// Code names the fault where a client may act on it (the wording's
	// gaps of a consent record: wording_missing_whatsapp, …).
	Code string `json:"code,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client went away: nothing left to tell it
}

func writeProblem(w http.ResponseWriter, status int, code, message string, fields ...FieldError) {
	writeJSON(w, status, struct {
		Error Problem `json:"error"`
	}{Problem{Code: code, Message: message, Fields: fields}})
}

// fieldErrors collects the invalid fields of one request.
type fieldErrors []FieldError

func (fe *fieldErrors) add(field, message string) {
	*fe = append(*fe, FieldError{Field: field, Message: message})
}
