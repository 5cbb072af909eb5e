"""The database schema as an append-only list of migrations.

Migration N (1-based) is `MIGRATIONS[N - 1]`. A released migration is never edited:
databases in the field have already run it. To change the schema, append a new string;
for a new per-face feature that is one line,

    "ALTER TABLE frames ADD COLUMN new_feature DOUBLE;",

plus a field of the same name on `FrameRow` (the writer inserts by column name, so
column order never matters). A new fatigue cue is a field of `FatigueFrame`, whose fields
are the one definition of the fatigue column names (`FATIGUE_COLUMNS`); a test checks
that the migrated `frames` table has every one of them, with the field's type. The SQL
is written out literally instead of being generated from constants such as EMOTIONS, so
editing a constant can never rewrite history.

Design notes:
- Timestamps are TIMESTAMP (no zone) in UTC.
- `frames` holds one row per detected face per frame; frames without a face are not
  stored, `sessions.frames_total` counts them. It has no key or index: rows arrive in
  session order, so DuckDB's per-block min/max already prunes by session, and an index
  would slow the bulk inserts and grow with every frame.
- Only `users` is the target of foreign keys. DuckDB refuses to delete a parent row in
  the same transaction as its children, which `delete_session` must do atomically, so
  rows pointing at a session are kept consistent by the repository functions instead.
- `session_metrics` lists every session, with its status: a running session's figures
  are useful live, and readers that want finished work filter on status = 'complete'.
  `duration_s` is wall-clock time (NULL while running); for `analyze` that is how long
  the analysis took, not the video's length (see max(frames.ts) for that).
- The `v_*` views (migration 2, documented in docs/views.md) are the stable interface
  for reports and plugins: the tables may gain or rename columns, the views keep theirs.
  Each names the person in a `user` column so views join and filter alike.
- `track_users` (migration 3) maps a multi-user session's track ids to the people they
  are; `v_track_frames` names each frame row by that person, falling back to the
  session's user for single-user sessions, which have no mapping. It has no foreign
  key: the Parquet round trip (`report --from`) drops and rebuilds `users`, which a
  referencing table would forbid.
- Migration 4 adds the face-mesh fatigue cues to `frames` (NULL where no mesh was
  fitted, e.g. rows written before it existed), each frame's score normalised by the
  person's calibration baseline, and `calibrations`: the statistics of a baseline
  session (`burnout-tui calibrate`). `calibrations` has no foreign key for the same
  reason as `track_users`. `v_frames` gains the new columns at its end and
  `v_session_fatigue` summarises them per session and track.
- Migration 5 widens `sessions.status` with `interrupted` (the process died with the
  session running: kill -9, power loss; found and marked at the next open) and
  `truncated` (a file ended before the frames its header announced). DuckDB cannot
  alter a CHECK constraint, so the table is rebuilt through a copy (not created under
  another name and renamed: DuckDB 1.5 keeps the old name in `users`' foreign-key
  bookkeeping, and `users` could then never be dropped). Nothing references `sessions`
  by foreign key, and the views bind by name at query time.
- The heart-rate migration adds `frames.pulse` (each frame's raw camera pulse value,
  NULL on gaps) and `heart`: one row per face track per second of frame time with the
  heart rate (NULL when withheld), its quality (spectral SNR), the window's coverage and,
  when the whole HRV window was reported, RMSSD and SDNN; `v_heart` names each row's
  person like `v_track_frames` (docs/heart-rate.md).
- The emotion-model migration records which emotion model scored each session
  (`sessions.emotion_model`, an `[emotion] model` name, written when the session
  starts), so a report never mixes models silently; every session stored before it ran
  the mini-Xception, the only model then. `v_sessions` gains the column at its end.
- The blinks migration adds `blinks`, a per-face side table (`store.blink_rows`): one row
  per blink with the UTA-RLDD dataset's four features, raw and normalised against the
  person's blink baseline, and the drowsiness level of the 30-blink window ending at it
  (docs/drowsiness.md); `calibrations` gains that baseline (count, mean and spread of each
  feature over the calibration session's blinks), and `v_blinks` names each row's person
  as `v_track_frames` does.
- The blendshapes migration adds `frames.blendshapes FLOAT[]`, the 52 coefficients of
  the face's mesh in `scoring.action_cues.BLENDSHAPE_NAMES` order (DuckDB lists are
  1-based: `blendshapes[26]` is `jawOpen`, index 25 there), NULL where no mesh was
  usable; and `v_action_cues`, one row per face frame with coefficients, the named
  cues of `ACTION_CUES` (each the mean of its coefficients) and the whole vector. One
  array column rather than 52 columns or a side table: the vector is one model output
  read whole, a side table would repeat the frame key for every face frame, and
  exports carry a list column as it is (Parquet `list<float>`). A test checks the
  view's expressions against `ACTION_CUES`.
"""

from __future__ import annotations

from burnout_tui import EMOTIONS, FEATURE_NAMES
from burnout_tui.scoring.fatigue_frame import FATIGUE_COLUMNS as FATIGUE_COLUMNS

PROBABILITY_COLUMNS: tuple[str, ...] = tuple(f"p_{name}" for name in EMOTIONS)

FEATURE_COLUMNS: tuple[str, ...] = FEATURE_NAMES
"""Stored names of the per-face geometry features, in the order of the feature vector.
Adding a name there also needs a migration below that adds its column."""

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE SEQUENCE user_id_seq START 1;
    CREATE TABLE users (
        user_id INTEGER PRIMARY KEY DEFAULT nextval('user_id_seq'),
        name VARCHAR NOT NULL UNIQUE,
        created_at TIMESTAMP NOT NULL DEFAULT (current_timestamp AT TIME ZONE 'UTC')
    );

    CREATE SEQUENCE session_id_seq START 1;
    CREATE TABLE sessions (
        session_id INTEGER PRIMARY KEY DEFAULT nextval('session_id_seq'),
        user_id INTEGER NOT NULL REFERENCES users (user_id),
        source VARCHAR NOT NULL,
        started_at TIMESTAMP NOT NULL DEFAULT (current_timestamp AT TIME ZONE 'UTC'),
        ended_at TIMESTAMP,
        status VARCHAR NOT NULL DEFAULT 'running'
            CHECK (status IN ('running', 'complete', 'failed')),
        frames_total INTEGER,
        config_json VARCHAR,
        notes VARCHAR
    );

    CREATE TABLE frames (
        session_id INTEGER NOT NULL,
        frame_index INTEGER NOT NULL,
        ts DOUBLE NOT NULL,
        track_id INTEGER NOT NULL,
        box_x INTEGER NOT NULL,
        box_y INTEGER NOT NULL,
        box_w INTEGER NOT NULL,
        box_h INTEGER NOT NULL,
        det_score DOUBLE NOT NULL,
        p_angry DOUBLE NOT NULL,
        p_disgust DOUBLE NOT NULL,
        p_fear DOUBLE NOT NULL,
        p_happy DOUBLE NOT NULL,
        p_sad DOUBLE NOT NULL,
        p_surprise DOUBLE NOT NULL,
        p_neutral DOUBLE NOT NULL,
        roll_deg DOUBLE,
        yaw DOUBLE,
        mouth_width DOUBLE,
        eye_mouth DOUBLE,
        eye_open DOUBLE,
        mouth_open DOUBLE,
        frame_score DOUBLE NOT NULL,
        rolling_score DOUBLE NOT NULL,
        forecast DOUBLE
    );

    CREATE TABLE markers (
        session_id INTEGER NOT NULL,
        ts DOUBLE NOT NULL,
        note VARCHAR NOT NULL
    );

    CREATE SEQUENCE survey_id_seq START 1;
    CREATE TABLE surveys (
        survey_id INTEGER PRIMARY KEY DEFAULT nextval('survey_id_seq'),
        user_id INTEGER NOT NULL REFERENCES users (user_id),
        session_id INTEGER,
        instrument VARCHAR NOT NULL,
        taken_at TIMESTAMP NOT NULL,
        answers JSON NOT NULL,
        subscales JSON,
        total DOUBLE,
        burnout_01 DOUBLE CHECK (burnout_01 BETWEEN 0 AND 1)
    );

    CREATE VIEW session_metrics AS
    SELECT
        s.session_id,
        u.name AS user_name,
        s.source,
        s.status,
        s.started_at,
        s.ended_at,
        epoch(s.ended_at) - epoch(s.started_at) AS duration_s,
        coalesce(f.valid_frames, 0) AS valid_frames,
        s.frames_total,
        f.mean_score,
        f.min_score,
        f.max_score,
        f.std_score,
        f.volatility
    FROM sessions AS s
    JOIN users AS u USING (user_id)
    LEFT JOIN (
        SELECT
            session_id,
            count(DISTINCT frame_index) AS valid_frames,
            avg(frame_score) AS mean_score,
            min(frame_score) AS min_score,
            max(frame_score) AS max_score,
            stddev_pop(frame_score) AS std_score,
            var_pop(frame_score) AS volatility
        FROM frames
        GROUP BY session_id
    ) AS f USING (session_id);
    """,
    """
    CREATE VIEW v_sessions AS
    SELECT
        s.session_id,
        u.name AS "user",
        s.source,
        s.status,
        s.started_at,
        s.ended_at,
        s.frames_total
    FROM sessions AS s
    JOIN users AS u USING (user_id);

    CREATE VIEW v_frames AS
    SELECT
        f.session_id,
        u.name AS "user",
        f.frame_index,
        f.ts,
        f.track_id,
        f.p_angry,
        f.p_disgust,
        f.p_fear,
        f.p_happy,
        f.p_sad,
        f.p_surprise,
        f.p_neutral,
        f.roll_deg,
        f.yaw,
        f.mouth_width,
        f.eye_mouth,
        f.eye_open,
        f.mouth_open,
        f.frame_score,
        f.rolling_score,
        f.forecast,
        s.started_at + to_seconds(f.ts) AS frame_time
    FROM frames AS f
    JOIN sessions AS s USING (session_id)
    JOIN users AS u USING (user_id);

    CREATE VIEW v_surveys AS
    SELECT
        v.survey_id,
        u.name AS "user",
        v.session_id,
        v.instrument,
        v.taken_at,
        v.total,
        v.burnout_01,
        v.subscales,
        v.answers
    FROM surveys AS v
    JOIN users AS u USING (user_id);

    CREATE VIEW v_markers AS
    SELECT
        m.session_id,
        u.name AS "user",
        m.ts,
        m.note,
        s.started_at + to_seconds(m.ts) AS marker_time
    FROM markers AS m
    JOIN sessions AS s USING (session_id)
    JOIN users AS u USING (user_id);

    CREATE VIEW v_session_metrics AS
    SELECT *, user_name AS "user" FROM session_metrics;
    """,
    """
    CREATE TABLE track_users (
        session_id INTEGER NOT NULL,
        track_id INTEGER NOT NULL,
        user_id INTEGER NOT NULL,
        PRIMARY KEY (session_id, track_id)
    );

    CREATE VIEW v_track_frames AS
    SELECT
        f.session_id,
        coalesce(tu.name, su.name) AS "user",
        f.track_id,
        f.frame_index,
        f.ts,
        f.frame_score,
        f.rolling_score,
        s.started_at + to_seconds(f.ts) AS frame_time
    FROM frames AS f
    JOIN sessions AS s USING (session_id)
    JOIN users AS su ON su.user_id = s.user_id
    LEFT JOIN track_users AS t ON t.session_id = f.session_id AND t.track_id = f.track_id
    LEFT JOIN users AS tu ON tu.user_id = t.user_id;
    """,
    """
    ALTER TABLE frames ADD COLUMN ear_left DOUBLE;
    ALTER TABLE frames ADD COLUMN ear_right DOUBLE;
    ALTER TABLE frames ADD COLUMN mar DOUBLE;
    ALTER TABLE frames ADD COLUMN head_yaw DOUBLE;
    ALTER TABLE frames ADD COLUMN head_pitch DOUBLE;
    ALTER TABLE frames ADD COLUMN head_roll DOUBLE;
    ALTER TABLE frames ADD COLUMN eyes_closed BOOLEAN;
    ALTER TABLE frames ADD COLUMN blink BOOLEAN;
    ALTER TABLE frames ADD COLUMN yawn BOOLEAN;
    ALTER TABLE frames ADD COLUMN looking_away BOOLEAN;
    ALTER TABLE frames ADD COLUMN blink_rate DOUBLE;
    ALTER TABLE frames ADD COLUMN perclos DOUBLE;
    ALTER TABLE frames ADD COLUMN normalized_score DOUBLE;

    CREATE SEQUENCE calibration_id_seq START 1;
    CREATE TABLE calibrations (
        calibration_id INTEGER PRIMARY KEY DEFAULT nextval('calibration_id_seq'),
        user_id INTEGER NOT NULL,
        session_id INTEGER NOT NULL,
        created_at TIMESTAMP NOT NULL DEFAULT (current_timestamp AT TIME ZONE 'UTC'),
        face_frames INTEGER NOT NULL,
        score_mean DOUBLE NOT NULL,
        score_std DOUBLE NOT NULL,
        ear_open DOUBLE,
        mar_rest DOUBLE,
        yaw0 DOUBLE,
        pitch0 DOUBLE,
        roll0 DOUBLE,
        blink_rate DOUBLE,
        perclos DOUBLE
    );

    CREATE OR REPLACE VIEW v_frames AS
    SELECT
        f.session_id,
        u.name AS "user",
        f.frame_index,
        f.ts,
        f.track_id,
        f.p_angry,
        f.p_disgust,
        f.p_fear,
        f.p_happy,
        f.p_sad,
        f.p_surprise,
        f.p_neutral,
        f.roll_deg,
        f.yaw,
        f.mouth_width,
        f.eye_mouth,
        f.eye_open,
        f.mouth_open,
        f.frame_score,
        f.rolling_score,
        f.forecast,
        s.started_at + to_seconds(f.ts) AS frame_time,
        f.ear_left,
        f.ear_right,
        f.mar,
        f.head_yaw,
        f.head_pitch,
        f.head_roll,
        f.eyes_closed,
        f.blink,
        f.yawn,
        f.looking_away,
        f.blink_rate,
        f.perclos,
        f.normalized_score
    FROM frames AS f
    JOIN sessions AS s USING (session_id)
    JOIN users AS u USING (user_id);

    CREATE VIEW v_calibrations AS
    SELECT
        c.calibration_id,
        u.name AS "user",
        c.session_id,
        c.created_at,
        c.face_frames,
        c.score_mean,
        c.score_std,
        c.ear_open,
        c.mar_rest,
        c.yaw0,
        c.pitch0,
        c.roll0,
        c.blink_rate,
        c.perclos
    FROM calibrations AS c
    JOIN users AS u USING (user_id);

    CREATE VIEW v_session_fatigue AS
    SELECT
        f.session_id,
        coalesce(tu.name, su.name) AS "user",
        f.track_id,
        count(f.ear_left) AS mesh_frames,
        max(f.ts) - min(f.ts) AS seconds,
        count_if(f.blink) AS blinks,
        60.0 * count_if(f.blink) / nullif(max(f.ts) - min(f.ts), 0) AS blinks_per_min,
        avg(CAST(f.eyes_closed AS DOUBLE)) AS perclos,
        count_if(f.yawn) AS yawns,
        avg(CAST(f.looking_away AS DOUBLE)) AS looking_away_share,
        avg(f.ear_left) AS mean_ear_left,
        avg(f.ear_right) AS mean_ear_right,
        avg(f.normalized_score) AS mean_normalized_score
    FROM frames AS f
    JOIN sessions AS s USING (session_id)
    JOIN users AS su ON su.user_id = s.user_id
    LEFT JOIN track_users AS t ON t.session_id = f.session_id AND t.track_id = f.track_id
    LEFT JOIN users AS tu ON tu.user_id = t.user_id
    GROUP BY f.session_id, coalesce(tu.name, su.name), f.track_id;
    """,
    """
    CREATE TABLE sessions_before_v5 AS SELECT * FROM sessions;
    DROP TABLE sessions;
    CREATE TABLE sessions (
        session_id INTEGER PRIMARY KEY DEFAULT nextval('session_id_seq'),
        user_id INTEGER NOT NULL REFERENCES users (user_id),
        source VARCHAR NOT NULL,
        started_at TIMESTAMP NOT NULL DEFAULT (current_timestamp AT TIME ZONE 'UTC'),
        ended_at TIMESTAMP,
        status VARCHAR NOT NULL DEFAULT 'running'
            CHECK (status IN ('running', 'complete', 'failed', 'interrupted', 'truncated')),
        frames_total INTEGER,
        config_json VARCHAR,
        notes VARCHAR
    );
    INSERT INTO sessions SELECT * FROM sessions_before_v5;
    DROP TABLE sessions_before_v5;
    """,
    """
    ALTER TABLE frames ADD COLUMN pulse DOUBLE;

    CREATE TABLE heart (
        session_id INTEGER NOT NULL,
        track_id INTEGER NOT NULL,
        frame_index INTEGER NOT NULL,
        ts DOUBLE NOT NULL,
        bpm DOUBLE,
        snr_db DOUBLE,
        coverage DOUBLE NOT NULL,
        rmssd_ms DOUBLE,
        sdnn_ms DOUBLE,
        method VARCHAR NOT NULL
    );

    CREATE VIEW v_heart AS
    SELECT
        h.session_id,
        coalesce(tu.name, su.name) AS "user",
        h.track_id,
        h.frame_index,
        h.ts,
        s.started_at + to_seconds(h.ts) AS frame_time,
        h.bpm,
        h.snr_db,
        h.coverage,
        h.rmssd_ms,
        h.sdnn_ms,
        h.method
    FROM heart AS h
    JOIN sessions AS s USING (session_id)
    JOIN users AS su ON su.user_id = s.user_id
    LEFT JOIN track_users AS t ON t.session_id = h.session_id AND t.track_id = h.track_id
    LEFT JOIN users AS tu ON tu.user_id = t.user_id;
    """,
    """
    ALTER TABLE sessions ADD COLUMN emotion_model VARCHAR;
    UPDATE sessions SET emotion_model = 'minixception';
    CREATE OR REPLACE VIEW v_sessions AS
    SELECT
        s.session_id,
        u.name AS "user",
        s.source,
        s.status,
        s.started_at,
        s.ended_at,
        s.frames_total,
        s.emotion_model
    FROM sessions AS s
    JOIN users AS u USING (user_id);
    """,
    """
    CREATE TABLE blinks (
        session_id INTEGER NOT NULL,
        track_id INTEGER NOT NULL,
        frame_index INTEGER NOT NULL,
        ts DOUBLE NOT NULL,
        start_ts DOUBLE NOT NULL,
        end_ts DOUBLE NOT NULL,
        frequency DOUBLE NOT NULL,
        amplitude DOUBLE NOT NULL,
        duration DOUBLE NOT NULL,
        velocity DOUBLE NOT NULL,
        z_frequency DOUBLE,
        z_amplitude DOUBLE,
        z_duration DOUBLE,
        z_velocity DOUBLE,
        level VARCHAR,
        p_alert DOUBLE,
        p_low_vigilant DOUBLE,
        p_drowsy DOUBLE
    );

    ALTER TABLE calibrations ADD COLUMN blink_count INTEGER;
    ALTER TABLE calibrations ADD COLUMN blink_frequency_mean DOUBLE;
    ALTER TABLE calibrations ADD COLUMN blink_amplitude_mean DOUBLE;
    ALTER TABLE calibrations ADD COLUMN blink_duration_mean DOUBLE;
    ALTER TABLE calibrations ADD COLUMN blink_velocity_mean DOUBLE;
    ALTER TABLE calibrations ADD COLUMN blink_frequency_std DOUBLE;
    ALTER TABLE calibrations ADD COLUMN blink_amplitude_std DOUBLE;
    ALTER TABLE calibrations ADD COLUMN blink_duration_std DOUBLE;
    ALTER TABLE calibrations ADD COLUMN blink_velocity_std DOUBLE;

    CREATE OR REPLACE VIEW v_calibrations AS
    SELECT
        c.calibration_id,
        u.name AS "user",
        c.session_id,
        c.created_at,
        c.face_frames,
        c.score_mean,
        c.score_std,
        c.ear_open,
        c.mar_rest,
        c.yaw0,
        c.pitch0,
        c.roll0,
        c.blink_rate,
        c.perclos,
        c.blink_count,
        c.blink_frequency_mean,
        c.blink_amplitude_mean,
        c.blink_duration_mean,
        c.blink_velocity_mean,
        c.blink_frequency_std,
        c.blink_amplitude_std,
        c.blink_duration_std,
        c.blink_velocity_std
    FROM calibrations AS c
    JOIN users AS u USING (user_id);

    CREATE VIEW v_blinks AS
    SELECT
        b.session_id,
        coalesce(tu.name, su.name) AS "user",
        b.track_id,
        b.frame_index,
        b.ts,
        b.start_ts,
        b.end_ts,
        s.started_at + to_seconds(b.start_ts) AS blink_time,
        b.frequency,
        b.amplitude,
        b.duration,
        b.velocity,
        b.z_frequency,
        b.z_amplitude,
        b.z_duration,
        b.z_velocity,
        b.level,
        b.p_alert,
        b.p_low_vigilant,
        b.p_drowsy,
        5.0 * b.p_low_vigilant + 10.0 * b.p_drowsy AS expected_level
    FROM blinks AS b
    JOIN sessions AS s USING (session_id)
    JOIN users AS su ON su.user_id = s.user_id
    LEFT JOIN track_users AS t ON t.session_id = b.session_id AND t.track_id = b.track_id
    LEFT JOIN users AS tu ON tu.user_id = t.user_id;
    """,
    """
    ALTER TABLE frames ADD COLUMN blendshapes FLOAT[];

    CREATE VIEW v_action_cues AS
    SELECT
        f.session_id,
        coalesce(tu.name, su.name) AS "user",
        f.track_id,
        f.frame_index,
        f.ts,
        s.started_at + to_seconds(f.ts) AS frame_time,
        (f.blendshapes[2] + f.blendshapes[3]) / 2 AS brow_lowering,
        (f.blendshapes[37] + f.blendshapes[38]) / 2 AS lip_press,
        (f.blendshapes[31] + f.blendshapes[32]) / 2 AS lip_corner_depression,
        (f.blendshapes[20] + f.blendshapes[21]) / 2 AS eye_squint,
        f.blendshapes[26] AS jaw_open,
        (f.blendshapes[10] + f.blendshapes[11]) / 2 AS eye_blink,
        f.blendshapes
    FROM frames AS f
    JOIN sessions AS s USING (session_id)
    JOIN users AS su ON su.user_id = s.user_id
    LEFT JOIN track_users AS t ON t.session_id = f.session_id AND t.track_id = f.track_id
    LEFT JOIN users AS tu ON tu.user_id = t.user_id
    WHERE f.blendshapes IS NOT NULL;
    """,
)
