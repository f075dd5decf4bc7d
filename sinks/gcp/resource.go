package gcp

import (
	"google.golang.org/genproto/googleapis/api/monitoredres"
)

// Resource is the monitored resource Cloud Logging entries and Cloud Monitoring series are
// written against.
type Resource struct {
	// Type is "generic_node" (a machine: location, namespace, node id) or "global".
	Type string
	// Location is a zone or region, or "global", for generic_node.
	Location string
	// Namespace groups nodes, for generic_node: a team, a fleet.
	Namespace string
	// NodeID names the machine, for generic_node: by default its host name.
	NodeID string
}

// Proto is the resource as the Logging and Monitoring APIs take it.
func (r Resource) Proto(project string) *monitoredres.MonitoredResource {
	if r.Type == "global" {
		return &monitoredres.MonitoredResource{Type: "global", Labels: map[string]string{"project_id": project}}
	}
	return &monitoredres.MonitoredResource{
		Type: "generic_node",
		Labels: map[string]string{
			"project_id": project,
			"location":   r.Location,
			"namespace":  r.Namespace,
			"node_id":    r.NodeID,
		},
	}
}
