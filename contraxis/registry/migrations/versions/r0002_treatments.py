"""Treatments followed over visits: rating scale scores, botulinum toxin injections, deep brain
stimulation systems and their settings.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _visit(table: str) -> list[sa.Column[int] | sa.Constraint]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["visit_id"], ["visits.id"], ondelete="CASCADE",
                                name=f"fk_{table}_visit_id_visits"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
    ]


def upgrade() -> None:
    op.create_table(
        "scale_scores", *_visit("scale_scores"),
        sa.Column("scale", sa.String(40), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("total", sa.Float(), nullable=True),
        sa.UniqueConstraint("visit_id", "scale", name="uq_scale_scores_visit_id_scale"),
    )
    op.create_index("ix_scale_scores_visit_id", "scale_scores", ["visit_id"])
    op.create_table(
        "toxin_injections", *_visit("toxin_injections"),
        sa.Column("product", sa.String(60), nullable=False),
        sa.Column("total_units", sa.Float(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
    )
    op.create_index("ix_toxin_injections_visit_id", "toxin_injections", ["visit_id"])
    op.create_table(
        "dbs_implants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("surgery_date", sa.Date(), nullable=False),
        sa.Column("device", sa.String(200), nullable=False),
        sa.Column("target", sa.String(10), nullable=False),
        sa.Column("side", sa.String(10), nullable=False),
        sa.CheckConstraint("target IN ('GPi', 'STN', 'VIM', 'other')", name="ck_dbs_implants_target"),
        sa.CheckConstraint("side IN ('left', 'right', 'bilateral')", name="ck_dbs_implants_side"),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], ondelete="CASCADE",
                                name="fk_dbs_implants_patient_id_patients"),
        sa.PrimaryKeyConstraint("id", name="pk_dbs_implants"),
    )
    op.create_index("ix_dbs_implants_patient_id", "dbs_implants", ["patient_id"])
    op.create_table(
        "dbs_settings", *_visit("dbs_settings"),
        sa.Column("implant_id", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(10), nullable=False),
        sa.Column("contacts", sa.String(60), nullable=False),
        sa.Column("amplitude", sa.Float(), nullable=False),
        sa.Column("amplitude_unit", sa.String(4), nullable=False),
        sa.Column("pulse_width_us", sa.Float(), nullable=False),
        sa.Column("frequency_hz", sa.Float(), nullable=False),
        sa.CheckConstraint("side IN ('left', 'right')", name="ck_dbs_settings_side"),
        sa.CheckConstraint("amplitude_unit IN ('mA', 'V')", name="ck_dbs_settings_amplitude_unit"),
        sa.CheckConstraint("amplitude >= 0 AND pulse_width_us > 0 AND frequency_hz > 0",
                           name="ck_dbs_settings_positive"),
        sa.ForeignKeyConstraint(["implant_id"], ["dbs_implants.id"], ondelete="CASCADE",
                                name="fk_dbs_settings_implant_id_dbs_implants"),
    )
    op.create_index("ix_dbs_settings_visit_id", "dbs_settings", ["visit_id"])
    op.create_index("ix_dbs_settings_implant_id", "dbs_settings", ["implant_id"])


def downgrade() -> None:
    op.drop_table("dbs_settings")
    op.drop_table("dbs_implants")
    op.drop_table("toxin_injections")
    op.drop_table("scale_scores")
