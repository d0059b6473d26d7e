"""Identity custom runtime for MLServer: every input tensor comes back as an output tensor."""

from mlserver import MLModel
from mlserver.types import InferenceRequest, InferenceResponse, ResponseOutput


class IdentityModel(MLModel):
    async def load(self) -> bool:
        self.ready = True
        return self.ready

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        outputs = [
            ResponseOutput(
                name=inp.name,
                shape=inp.shape,
                datatype=inp.datatype,
                data=inp.data,
                parameters=inp.parameters,
            )
            for inp in payload.inputs
        ]
        return InferenceResponse(
            model_name=self.name, model_version=self.version, id=payload.id, outputs=outputs
        )
