package cluster_test

import "github.com/arbalest/arbalest/substrait/clusterpb"

func submitSQL(q string) *clusterpb.SubmitJobRequest {
	return &clusterpb.SubmitJobRequest{Query: &clusterpb.SubmitJobRequest_Sql{Sql: q}}
}
