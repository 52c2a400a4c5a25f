package license

import (
	"testing"
	"time"
)

func TestEvaluation(t *testing.T) {
	e := Evaluation()
	if e.Model != ModelChannel || e.Count != 8 || e.Expires != "" || e.Customer != "evaluation" {
		t.Errorf("Evaluation() = %+v", e)
	}
	if !e.IsEvaluation() {
		t.Error("Evaluation() is not the evaluation licence")
	}
	issuedEval := e
	issuedEval.Issued = issued
	if issuedEval.IsEvaluation() {
		t.Error("an issued licence for a customer named evaluation is taken for the evaluation licence")
	}
	if Expired(e, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("the evaluation licence expires")
	}
}

func TestDescribe(t *testing.T) {
	users := License{Customer: "Bank of X", Model: ModelUser, Count: 1, Issued: issued}
	for _, c := range []struct {
		l    License
		want string
	}{
		{acme(), "channel licence for ACME: 8 channels, expires 2027-03-31"},
		{Evaluation(), "evaluation licence: 8 channels, no expiry"},
		{users, "user licence for Bank of X: 1 user, no expiry"},
	} {
		if got := Describe(c.l); got != c.want {
			t.Errorf("Describe(%+v) = %q, want %q", c.l, got, c.want)
		}
	}
}
