package compliance

import (
	"os"
	"testing"
)

func TestTmp(t *testing.T) {
	Run(os.Stdout, []string{"testdata", "../../flows/examples", "../../bot/testdata/full.yaml", "../../bot/testdata/two_topics.yaml"})
}
