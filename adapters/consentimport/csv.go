package consentimport

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Columns are the columns an import file may have, in the order the docs
// list them. customer, action, source and consented_at are required; the
// others may be left out of the header or left empty.
var Columns = []string{"id", "customer", "action", "topic", "source", "wording", "language", "where", "consented_at"}

// RequiredColumns must be in every import file's header.
var RequiredColumns = []string{"customer", "action", "source", "consented_at"}

// MaxRows is how many rows one import may hold.
const MaxRows = 10_000

// ErrTooManyRows reports a file of more than the rows allowed.
var ErrTooManyRows = errors.New("too many rows")

// HeaderError reports a header row that is not an import's.
type HeaderError struct{ Problems []string }

func (e *HeaderError) Error() string {
	return "the header row " + strings.Join(e.Problems, "; ") + " (columns: " + strings.Join(Columns, ", ") + ")"
}

// ParseCSV reads an import file: a header row naming columns of Columns
// (any order, any case, a UTF-8 byte order mark allowed) and at most
// maxRows rows, each a Record with its line number. A row with the wrong
// number of fields is a Record with a RowError, reported with the other
// rows; a header that is not an import's is a *HeaderError, more than
// maxRows rows ErrTooManyRows, and broken quoting a *csv.ParseError with
// its line: those reject the whole file.
func ParseCSV(r io.Reader, maxRows int) ([]Record, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, &HeaderError{Problems: []string{"is missing: the file is empty"}}
	}
	if err != nil {
		return nil, fmt.Errorf("read the header row: %w", err)
	}
	index := map[string]int{}
	var problems []string
	for i, name := range header {
		if i == 0 {
			name = strings.TrimPrefix(name, "\ufeff")
		}
		name = strings.ToLower(strings.TrimSpace(name))
		switch {
		case !slices.Contains(Columns, name):
			problems = append(problems, fmt.Sprintf("names an unknown column %q", name))
		case index[name] != 0:
			problems = append(problems, fmt.Sprintf("names column %q twice", name))
		default:
			index[name] = i + 1 // 0 is "absent"
		}
	}
	for _, name := range RequiredColumns {
		if index[name] == 0 {
			problems = append(problems, fmt.Sprintf("lacks the required column %q", name))
		}
	}
	if len(problems) > 0 {
		return nil, &HeaderError{Problems: problems}
	}
	width := len(header)
	var out []Record
	for {
		fields, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read the import file: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if len(fields) == 1 && strings.TrimSpace(fields[0]) == "" {
			continue // a blank line
		}
		if len(out) == maxRows {
			return nil, fmt.Errorf("the file holds more than %d rows (line %d is one too many): %w", maxRows, line, ErrTooManyRows)
		}
		rec := Record{Line: line}
		if len(fields) != width {
			rec.RowError = fmt.Sprintf("the row has %d fields, the header %d", len(fields), width)
			out = append(out, rec)
			continue
		}
		get := func(name string) string {
			if i := index[name]; i != 0 {
				return fields[i-1]
			}
			return ""
		}
		rec.ID, rec.Customer, rec.Action = get("id"), get("customer"), Action(strings.ToLower(strings.TrimSpace(get("action"))))
		rec.Topic, rec.Source, rec.Wording = get("topic"), get("source"), get("wording")
		rec.Language, rec.Where, rec.ConsentedAt = get("language"), get("where"), get("consented_at")
		out = append(out, rec)
	}
}
