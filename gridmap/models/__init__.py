"""SQLAlchemy models: the grid hierarchy, buildings, the code registry, context layers,
official divisions, the audit trail, people and API keys, incidents, facilities, devices,
the walking network and inspection routes."""
from gridmap.models.audit import AuditEvent
from gridmap.models.base import Base
from gridmap.models.hierarchy import Community, District, Grid, Street
from gridmap.models.registry import CodeRegistryEntry, GridLineage
from gridmap.models.building import Building
from gridmap.models.context import Road, Water
from gridmap.models.division import Division
from gridmap.models.plan import CommunityPlanVersion, Plan, PlanGrid
from gridmap.models.person import ApiKey, Person, PersonScope, ServerSecret, WebSession
from gridmap.models.incident import (Department, DispatchRule, EventClass, Incident,
                                     IncidentAttachment, IncidentStep)
from gridmap.models.facility import ComponentClass, Facility, FacilitySerial
from gridmap.models.device import Device, DeviceAlarm, DeviceRejected, DeviceTelemetry
from gridmap.models.walk import WalkEdge, WalkNetwork, WalkNode
from gridmap.models.route import RoutePlan, RouteStation, RouteVisit

__all__ = ["AuditEvent", "Base", "District", "Street", "Community", "Grid", "Building",
           "CodeRegistryEntry", "GridLineage", "Road", "Water", "Division", "Person", "PersonScope",
           "ApiKey", "ServerSecret", "WebSession", "Plan", "PlanGrid", "CommunityPlanVersion",
           "Department", "DispatchRule", "EventClass", "Incident", "IncidentAttachment",
           "IncidentStep", "ComponentClass", "Facility", "FacilitySerial", "Device",
           "DeviceAlarm", "DeviceRejected", "DeviceTelemetry", "WalkNetwork", "WalkNode",
           "WalkEdge", "RouteStation", "RouteVisit", "RoutePlan"]
