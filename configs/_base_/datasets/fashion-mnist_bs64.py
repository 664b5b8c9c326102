# Fashion-MNIST (28x28 grayscale, 10 classes), read in place from the Debian
# package `dataset-fashion-mnist`. Another folder: --cfg-options
# {train,val,test}_dataloader.dataset.data_root=/path/to/idx/files
dataset_type = 'FashionMNISTIdx'
data_root = '/usr/share/datasets/fashion-mnist'
data_preprocessor = dict(
    num_classes=10, mean=[72.94], std=[90.02], to_rgb=False)

# The images are tiny: loading in the main process beats worker processes on
# a 2-core machine. Raise num_workers on bigger machines.
#
# Flips only: in schedules of a few epochs, batch mixing is regularisation
# enough (random crops cost about 1.5 points at 9 epochs).
train_pipeline = [
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='PackInputs')]

train_dataloader = dict(
    batch_size=64,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=500,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        pipeline=test_pipeline),
)
# Top-1, then calibration (calibration/ece and /mce in %, /nll in nats).
# Reliability diagram: --cfg-options test_evaluator.1.dump_dir=DIR
val_evaluator = [dict(type='Accuracy', topk=(1, )), dict(type='ECE')]
test_dataloader = val_dataloader
test_evaluator = val_evaluator
