"""Each demo expression as the product sees it: the mesh's head pose and each model's class.

The demo's keyframes (`burnout_tui/sources/expressions.py`, CYCLE) were tuned so each reads
as a distinct emotion while the face mesh's head pitch stays within a few degrees of the
untouched portrait's (closing the mouth or lowering the brows otherwise tilts the mesh's
pose estimate, and the demo reads "looking away"). This prints, for the portrait with each
keyframe, the mesh's yaw, pitch and mouth aspect ratio and every emotion model's most
probable class, through the monitor's own detector, mesh and `aligned_crop`: run it after
changing a keyframe or a model (docs/emotion-model-frames.md, "The demo").

Run: python -m tools.demo_expression_check
"""

from __future__ import annotations

from burnout_tui import EMOTIONS
from burnout_tui.emotion_models import EMOTION_MODEL_NAMES
from burnout_tui.sources.demo import _load_asset
from burnout_tui.sources.expressions import CYCLE, FaceWarp, load_landmarks
from burnout_tui.vision.align import aligned_crop
from burnout_tui.vision.detector import FaceDetector
from burnout_tui.vision.emotion import EmotionClassifier
from burnout_tui.vision.fatigue import mesh_measures
from burnout_tui.vision.mesh import FaceMesh


def main() -> None:
    warp = FaceWarp(_load_asset(), load_landmarks())
    detector, mesh = FaceDetector(), FaceMesh()
    classifiers = {name: EmotionClassifier(model=name) for name in EMOTION_MODEL_NAMES}
    print("| expression | yaw | pitch | MAR | " + " | ".join(classifiers) + " |")
    print("|---" * (4 + len(classifiers)) + "|")
    for expression in CYCLE:
        image = warp.render(expression)
        faces = detector.detect(image)
        if len(faces) != 1:
            print(f"| {expression.name} | {len(faces)} faces found |")
            continue
        (fitted,) = mesh.predict(image, faces)
        measures = mesh_measures(fitted.points, (image.shape[1], image.shape[0]))
        crop = aligned_crop(image, faces[0])
        cells = []
        for classifier in classifiers.values():
            probs = classifier.predict([crop])[0]
            cells.append(f"{EMOTIONS[int(probs.argmax())]} {float(probs.max()):.2f}")
        print(
            f"| {expression.name} | {measures.head_yaw:+.1f} | {measures.head_pitch:+.1f} |"
            f" {measures.mar:.2f} | " + " | ".join(cells) + " |"
        )


if __name__ == "__main__":
    main()
