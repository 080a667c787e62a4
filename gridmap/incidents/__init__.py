"""Incidents (事件): the six-stage case loop, deadlines in working hours, routing by grid."""
