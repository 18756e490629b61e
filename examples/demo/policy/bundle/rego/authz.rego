package authz

import rego.v1

default allow := false

# Service accounts may read anything in their own namespace.
allow if {
	input.method == "GET"
	input.subject.namespace == input.resource.namespace
}

# The platform team may do anything.
allow if {
	"platform-admins" in input.subject.groups
}
