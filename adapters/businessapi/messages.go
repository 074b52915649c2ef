package businessapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/optinbot/optinbot/bot"
)

// SendMessage is the body of POST /v1/businesses/{business}/messages.
type SendMessage struct {
	// ID is the business's id for the request: a repeat is refused with
	// 409, so a retry never sends twice.
	ID       string            `json:"id"`
	To       string            `json:"to"`
	Sender   string            `json:"sender,omitempty"`
	Kind     bot.MessageKind   `json:"kind"`
	Template string            `json:"template,omitempty"`
	Language string            `json:"language,omitempty"`
	Params   map[string]string `json:"params,omitempty"`
	Text     string            `json:"text,omitempty"`
}

// Decision is the guard's answer to a send request.
type Decision struct {
	ID string `json:"id"`
	// Decision is "queued" (the message is on its way to the provider) or
	// "refused", with the guard's Reason.
	Decision string     `json:"decision"`
	Reason   bot.Reason `json:"reason,omitempty"`
	// MessageID is the outbound message's id, which delivery statuses name.
	MessageID string `json:"message_id"`
}

// decodeBody reads a JSON body strictly: unknown fields and trailing data
// are errors, and so is a body over the size limit (413).
func decodeBody(w http.ResponseWriter, r *request, dst any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil && dec.More() {
		err = errors.New("more than one JSON value")
	}
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("data after the JSON object")
		}
	}
	if maxErr, ok := errors.AsType[*http.MaxBytesError](err); ok {
		writeProblem(w, http.StatusRequestEntityTooLarge, "too_large",
			"the body is over "+strconv.FormatInt(maxErr.Limit, 10)+" bytes")
		return false
	}
	if err != nil {
		writeProblem(w, http.StatusBadRequest, "invalid_json", "the body is not the JSON object this endpoint takes: "+err.Error())
		return false
	}
	return true
}

// decodeOptionalBody is decodeBody for endpoints whose body may be left
// out: an empty body decodes to the zero value.
func decodeOptionalBody(w http.ResponseWriter, r *request, dst any) bool {
	data, err := io.ReadAll(r.Body)
	if maxErr, ok := errors.AsType[*http.MaxBytesError](err); ok {
		writeProblem(w, http.StatusRequestEntityTooLarge, "too_large", "the body is over "+strconv.FormatInt(maxErr.Limit, 10)+" bytes")
		return false
	}
	if err != nil {
		writeProblem(w, http.StatusBadRequest, "invalid_json", "the body could not be read: "+err.Error())
		return false
	}
	if strings.TrimSpace(string(data)) == "" {
		return true
	}
	r.Body = io.NopCloser(strings.NewReader(string(data)))
	return decodeBody(w, r, dst)
}

func (s *Server) sendMessage(w http.ResponseWriter, r *request) {
	var m SendMessage
	if !decodeBody(w, r, &m) {
		return
	}
	var bad fieldErrors
	if strings.TrimSpace(m.ID) == "" {
		bad.add("id", "required: your id for this request, so that a retry is never sent twice")
	}
	to, err := bot.ParseCustomerID(m.To)
	if err != nil {
		bad.add("to", err.Error())
	}
	switch m.Kind {
	case bot.KindTemplate:
		if m.Template == "" {
			bad.add("template", "required for a template message")
		} else if _, ok := r.biz.Machine.Flow.Template(m.Template); !ok {
			bad.add("template", "the flow declares no template "+strconv.Quote(m.Template))
		}
		if m.Text != "" {
			bad.add("text", "a template message takes params, not text")
		}
	case bot.KindText:
		if strings.TrimSpace(m.Text) == "" {
			bad.add("text", "required for a text message")
		}
		if m.Template != "" {
			bad.add("template", "a text message has no template")
		}
	default:
		bad.add("kind", "want template or text, got "+strconv.Quote(string(m.Kind)))
	}
	if len(bad) > 0 {
		writeProblem(w, http.StatusBadRequest, "invalid_request", "the message request is not valid", bad...)
		return
	}
	effects, err := s.cfg.Engine.HandleSendRequest(r.Context(), bot.SendRequest{ID: m.ID, Business: r.biz.ID,
		Sender: m.Sender, Customer: to, Kind: m.Kind, Template: m.Template, Language: m.Language, Params: m.Params, Text: m.Text})
	switch {
	case errors.Is(err, bot.ErrBadInput):
		writeProblem(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	case err != nil:
		r.log.Error().Err(err).Msg("send request")
		writeProblem(w, http.StatusServiceUnavailable, "unavailable", "the request could not be recorded: retry shortly with the same id")
		return
	case len(effects) == 0:
		writeProblem(w, http.StatusConflict, "duplicate_id",
			"request id "+strconv.Quote(m.ID)+" was already processed; its decision stands: use a new id for a new message")
		return
	}
	d := Decision{ID: m.ID, MessageID: effects[0].ID}
	if ref := effects[0].Refusal; ref != nil {
		d.Decision, d.Reason = "refused", ref.Reason
	} else {
		d.Decision = "queued"
	}
	r.log.Info().Str("decision", d.Decision).Str("reason", string(d.Reason)).Str("kind", string(m.Kind)).Msg("send request decided")
	writeJSON(w, http.StatusOK, d)
}
