"""The first schema: patients under a pseudonymous id, identities apart, visits with the case as
read, their assessments, and the audit of every read and write.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "patients",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("pseudonym", sa.String(64), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_patients"),
        sa.UniqueConstraint("pseudonym", name="uq_patients_pseudonym"),
    )
    op.create_table(
        "identities",
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("identifier", sa.String(100), nullable=True),
        sa.Column("identifier_system", sa.String(200), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], ondelete="CASCADE",
                                name="fk_identities_patient_id_patients"),
        sa.PrimaryKeyConstraint("patient_id", name="pk_identities"),
    )
    op.create_table(
        "visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("input_format", sa.String(20), nullable=False),
        sa.Column("case_json", sa.Text(), nullable=False),
        sa.Column("case_sha256", sa.String(64), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("not_read", sa.JSON(), nullable=False),
        sa.Column("recorded_at", _TZ, nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.CheckConstraint("input_format IN ('native', 'vignette', 'fhir', 'phenopacket')",
                           name="ck_visits_input_format"),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], ondelete="CASCADE",
                                name="fk_visits_patient_id_patients"),
        sa.PrimaryKeyConstraint("id", name="pk_visits"),
    )
    op.create_index("ix_visits_patient_id_date", "visits", ["patient_id", "date"])
    op.create_table(
        "assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("knowledge_base_version", sa.String(40), nullable=False),
        sa.Column("hpo_release", sa.String(40), nullable=False),
        sa.Column("assessed_at", _TZ, nullable=False),
        sa.Column("phenomenology", sa.String(40), nullable=True),
        sa.Column("distribution", sa.String(40), nullable=True),
        sa.Column("focal_type", sa.String(40), nullable=True),
        sa.Column("etiology", sa.String(40), nullable=True),
        sa.Column("body_zlib", sa.LargeBinary(), nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["visit_id"], ["visits.id"], ondelete="CASCADE",
                                name="fk_assessments_visit_id_visits"),
        sa.PrimaryKeyConstraint("id", name="pk_assessments"),
    )
    op.create_index("ix_assessments_visit_id", "assessments", ["visit_id"])
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", _TZ, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("patient", sa.String(64), nullable=True),
        sa.Column("what", sa.String(200), nullable=False),
        sa.CheckConstraint("action IN ('create', 'read', 'update', 'export', 'import', 'reassess')",
                           name="ck_audit_entries_action"),
        sa.PrimaryKeyConstraint("id", name="pk_audit_entries"),
    )
    op.create_index("ix_audit_entries_patient", "audit_entries", ["patient"])


def downgrade() -> None:
    op.drop_table("audit_entries")
    op.drop_table("assessments")
    op.drop_table("visits")
    op.drop_table("identities")
    op.drop_table("patients")
